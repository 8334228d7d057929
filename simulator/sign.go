package simulator

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// DefaultSign is the sign recipe when Config.Sign is empty: the lower-case
// hex MD5 of appId, timestamp and appKey run together, the timestamp in
// milliseconds.
const DefaultSign = "md5:appId+timestamp+appKey:lower:ms"

// signRecipe is a parsed sign spec. The simulator reads the spec itself,
// from the grammar the client documents, rather than through the client's
// code, so that a mistake in one shows in the tests of the other:
//
//	spec   = digest [ ":" fields [ ":" case [ ":" unit [ ":" sep ] ] ] ]
//	digest = md5 | sha1 | sha256 | hmac-sha256
//	fields = field { "+" field }, field = appId | timestamp | appKey | body
//	case   = lower | upper, unit = ms | s, sep = the rest, colons included
//
// Names match in any case; fields default to appId+timestamp+appKey, case
// to lower, unit to ms, sep to none. For hmac-sha256 the appKey is the key
// and is left out of the message.
type signRecipe struct {
	digest  string
	fields  []string
	upper   bool
	seconds bool // the timestamp header counts seconds, not milliseconds
	sep     string
}

// CheckSign reports whether spec is a sign recipe that Config.Sign takes;
// the error says which part is wrong.
func CheckSign(spec string) error {
	_, err := parseSign(spec)
	return err
}

// parseSign parses a spec; the empty spec is DefaultSign.
func parseSign(spec string) (signRecipe, error) {
	if spec == "" {
		spec = DefaultSign
	}
	var parts [5]string
	n := copy(parts[:], strings.SplitN(spec, ":", 5))
	r := signRecipe{digest: strings.ToLower(parts[0])}
	switch r.digest {
	case "md5", "sha1", "sha256", "hmac-sha256":
	default:
		return r, fmt.Errorf("sign %q: digest %q is none of md5, sha1, sha256, hmac-sha256", spec, parts[0])
	}
	list := "appId+timestamp+appKey"
	if n > 1 {
		list = parts[1]
	}
	for _, f := range strings.Split(list, "+") {
		var canon string
		for _, name := range []string{"appId", "timestamp", "appKey", "body"} {
			if strings.EqualFold(f, name) {
				canon = name
			}
		}
		if canon == "" {
			return r, fmt.Errorf("sign %q: field %q is none of appId, timestamp, appKey, body", spec, f)
		}
		for _, had := range r.fields {
			if had == canon {
				return r, fmt.Errorf("sign %q: field %s twice", spec, canon)
			}
		}
		r.fields = append(r.fields, canon)
	}
	if r.digest == "hmac-sha256" && len(r.fields) == 1 && r.fields[0] == "appKey" {
		return r, fmt.Errorf("sign %q: hmac-sha256 signs nothing but its own key", spec)
	}
	switch c := strings.ToLower(parts[2]); {
	case n <= 2 || c == "lower":
	case c == "upper":
		r.upper = true
	default:
		return r, fmt.Errorf("sign %q: case %q is neither lower nor upper", spec, parts[2])
	}
	switch u := strings.ToLower(parts[3]); {
	case n <= 3 || u == "ms":
	case u == "s":
		r.seconds = true
	default:
		return r, fmt.Errorf("sign %q: unit %q is neither ms nor s", spec, parts[3])
	}
	r.sep = parts[4]
	return r, nil
}

// sum is the sign of one request under r, in hex of r's case.
func (r signRecipe) sum(appID, appKey, timestamp string, body []byte) string {
	var msg []byte
	joined := 0
	for _, f := range r.fields {
		var v []byte
		switch f {
		case "appId":
			v = []byte(appID)
		case "timestamp":
			v = []byte(timestamp)
		case "appKey":
			if r.digest == "hmac-sha256" {
				continue
			}
			v = []byte(appKey)
		case "body":
			v = body
		}
		if joined > 0 {
			msg = append(msg, r.sep...)
		}
		joined++
		msg = append(msg, v...)
	}
	var d []byte
	switch r.digest {
	case "md5":
		s := md5.Sum(msg)
		d = s[:]
	case "sha1":
		s := sha1.Sum(msg)
		d = s[:]
	case "sha256":
		s := sha256.Sum256(msg)
		d = s[:]
	case "hmac-sha256":
		m := hmac.New(sha256.New, []byte(appKey))
		m.Write(msg)
		d = m.Sum(nil)
	}
	if r.upper {
		return fmt.Sprintf("%X", d)
	}
	return fmt.Sprintf("%x", d)
}

// unitOK reports whether timestamp is a decimal count in r's unit: from
// 10^12 up in milliseconds (any time since September 2001), below 10^11 in
// seconds. A client that signs right but sends the other unit is refused,
// as a server that checks the timestamp's age would refuse it.
func (r signRecipe) unitOK(timestamp string) bool {
	n, err := strconv.ParseUint(timestamp, 10, 64)
	if err != nil {
		return false
	}
	if r.seconds {
		return n < 1e11
	}
	return n >= 1e12
}

// signValid checks a request's appId, appKey and sign headers, and that its
// timestamp is in the recipe's unit; every comparison of a secret takes the
// same time whatever matches.
func (s *Simulator) signValid(h http.Header, body []byte) bool {
	key, ts := s.cfg.AppKey.Reveal(), h.Get("timestamp")
	want := s.sign.sum(s.cfg.AppID, key, ts, body)
	ok := subtle.ConstantTimeCompare([]byte(h.Get("appId")), []byte(s.cfg.AppID))
	ok &= subtle.ConstantTimeCompare([]byte(h.Get("appKey")), []byte(key))
	ok &= subtle.ConstantTimeCompare([]byte(h.Get("sign")), []byte(want))
	return ok == 1 && s.sign.unitOK(ts)
}
