package calllist

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callstream/callstream/secret"
)

// Digests a Signer can use.
const (
	DigestMD5        = "md5"
	DigestSHA1       = "sha1"
	DigestSHA256     = "sha256"
	DigestHMACSHA256 = "hmac-sha256"
)

// Fields a Signer can concatenate, in the spelling of the spec.
const (
	FieldAppID     = "appId"
	FieldTimestamp = "timestamp"
	FieldAppKey    = "appKey"
	FieldBody      = "body"
)

// DefaultSignSpec is the recipe used when none is configured: the lower-case
// hex MD5 of appId, timestamp and appKey concatenated, the timestamp in
// milliseconds since the Unix epoch.
const DefaultSignSpec = "md5:appId+timestamp+appKey:lower:ms"

var (
	digests = []string{DigestMD5, DigestSHA1, DigestSHA256, DigestHMACSHA256}
	fields  = []string{FieldAppID, FieldTimestamp, FieldAppKey, FieldBody}
)

// Signer computes the sign header of a request. The vendor's recipe is not
// documented where we can read it, so the recipe is a setting, written as a
// spec of up to five parts separated by colons:
//
//	spec   = digest [ ":" fields [ ":" case [ ":" unit [ ":" sep ] ] ] ]
//	digest = "md5" | "sha1" | "sha256" | "hmac-sha256"
//	fields = field { "+" field }
//	field  = "appId" | "timestamp" | "appKey" | "body"
//	case   = "lower" | "upper"     (hex case of the sign; default lower)
//	unit   = "ms" | "s"            (unit of the timestamp header; default ms)
//	sep    = any text, even with ':' (put between the fields; default none)
//
// The empty spec is DefaultSignSpec; omitted parts take their defaults, and
// omitted fields are appId+timestamp+appKey. Field names match without
// regard to case. body is the request body exactly as sent. For hmac-sha256
// the appKey is the HMAC key and the message is the other fields: appKey in
// the field list is allowed and skipped there.
//
// The zero Signer is the default recipe.
type Signer struct {
	Digest  string   // one of md5, sha1, sha256, hmac-sha256
	Fields  []string // from appId, timestamp, appKey, body, in order
	Upper   bool     // upper-case hex
	Seconds bool     // timestamp in seconds; default milliseconds
	Sep     string   // put between fields
}

// ParseSigner parses a spec (see Signer). The error names the part of the
// spec that is wrong.
func ParseSigner(spec string) (Signer, error) {
	if spec == "" {
		spec = DefaultSignSpec
	}
	parts := strings.SplitN(spec, ":", 5)
	var s Signer
	d := strings.ToLower(parts[0])
	if !slices.Contains(digests, d) {
		return Signer{}, fmt.Errorf("sign spec: unknown digest %q (want %s)", parts[0], strings.Join(digests, ", "))
	}
	s.Digest = d
	s.Fields = []string{FieldAppID, FieldTimestamp, FieldAppKey}
	if len(parts) > 1 {
		fs, err := parseFields(parts[1])
		if err != nil {
			return Signer{}, err
		}
		s.Fields = fs
	}
	if len(parts) > 2 {
		switch strings.ToLower(parts[2]) {
		case "lower":
		case "upper":
			s.Upper = true
		default:
			return Signer{}, fmt.Errorf("sign spec: unknown case %q (want lower or upper)", parts[2])
		}
	}
	if len(parts) > 3 {
		switch strings.ToLower(parts[3]) {
		case "ms":
		case "s":
			s.Seconds = true
		default:
			return Signer{}, fmt.Errorf("sign spec: unknown timestamp unit %q (want ms or s)", parts[3])
		}
	}
	if len(parts) > 4 {
		s.Sep = parts[4]
	}
	if err := s.Validate(); err != nil {
		return Signer{}, err
	}
	return s, nil
}

func parseFields(list string) ([]string, error) {
	if list == "" {
		return nil, fmt.Errorf("sign spec: empty field list (want fields from %s joined by +)", strings.Join(fields, ", "))
	}
	var out []string
	for _, f := range strings.Split(list, "+") {
		canon := ""
		for _, known := range fields {
			if strings.EqualFold(f, known) {
				canon = known
			}
		}
		if canon == "" {
			return nil, fmt.Errorf("sign spec: unknown field %q (want %s)", f, strings.Join(fields, ", "))
		}
		if slices.Contains(out, canon) {
			return nil, fmt.Errorf("sign spec: field %q repeated", canon)
		}
		out = append(out, canon)
	}
	return out, nil
}

// Validate reports whether s is a recipe that Sign can compute. The zero
// Signer is valid (it is the default).
func (s Signer) Validate() error {
	s = s.normalized()
	if !slices.Contains(digests, s.Digest) {
		return fmt.Errorf("sign spec: unknown digest %q (want %s)", s.Digest, strings.Join(digests, ", "))
	}
	if len(s.Fields) == 0 {
		return fmt.Errorf("sign spec: empty field list")
	}
	seen := map[string]bool{}
	for _, f := range s.Fields {
		if !slices.Contains(fields, f) {
			return fmt.Errorf("sign spec: unknown field %q (want %s)", f, strings.Join(fields, ", "))
		}
		if seen[f] {
			return fmt.Errorf("sign spec: field %q repeated", f)
		}
		seen[f] = true
	}
	if s.Digest == DigestHMACSHA256 && len(s.Fields) == 1 && s.Fields[0] == FieldAppKey {
		return fmt.Errorf("sign spec: hmac-sha256 needs a field besides appKey, its key")
	}
	return nil
}

// normalized fills in the default recipe for the zero Signer and the
// default fields for a Signer with a digest but no fields.
func (s Signer) normalized() Signer {
	if s.Digest == "" && len(s.Fields) == 0 && !s.Upper && !s.Seconds && s.Sep == "" {
		return Signer{Digest: DigestMD5, Fields: []string{FieldAppID, FieldTimestamp, FieldAppKey}}
	}
	if len(s.Fields) == 0 && s.Digest != "" {
		s.Fields = []string{FieldAppID, FieldTimestamp, FieldAppKey}
	}
	return s
}

// String returns the spec of s in full, so that ParseSigner(s.String())
// gives back s.
func (s Signer) String() string {
	s = s.normalized()
	cs, unit := "lower", "ms"
	if s.Upper {
		cs = "upper"
	}
	if s.Seconds {
		unit = "s"
	}
	out := s.Digest + ":" + strings.Join(s.Fields, "+") + ":" + cs + ":" + unit
	if s.Sep != "" {
		out += ":" + s.Sep
	}
	return out
}

// Timestamp formats t as the timestamp header: decimal milliseconds since
// the Unix epoch, or seconds when s.Seconds is set.
func (s Signer) Timestamp(t time.Time) string {
	if s.Seconds {
		return strconv.FormatInt(t.Unix(), 10)
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}

// Sign computes the sign of one request: the digest of the configured fields
// joined by Sep, in hex. body is the request body exactly as sent. Sign
// panics if s is not valid; ParseSigner, NewClient and the simulator
// validate their Signer first.
func (s Signer) Sign(appID string, appKey secret.String, timestamp string, body []byte) secret.String {
	s = s.normalized()
	if err := s.Validate(); err != nil {
		panic("calllist: Sign with an invalid Signer: " + err.Error())
	}
	var h hash.Hash
	switch s.Digest {
	case DigestMD5:
		h = md5.New()
	case DigestSHA1:
		h = sha1.New()
	case DigestSHA256:
		h = sha256.New()
	case DigestHMACSHA256:
		h = hmac.New(sha256.New, []byte(appKey.Reveal()))
	}
	first := true
	for _, f := range s.Fields {
		if f == FieldAppKey && s.Digest == DigestHMACSHA256 {
			continue // the key, not part of the message
		}
		if !first {
			h.Write([]byte(s.Sep))
		}
		first = false
		switch f {
		case FieldAppID:
			h.Write([]byte(appID))
		case FieldTimestamp:
			h.Write([]byte(timestamp))
		case FieldAppKey:
			h.Write([]byte(appKey.Reveal()))
		case FieldBody:
			h.Write(body)
		}
	}
	out := hex.EncodeToString(h.Sum(nil))
	if s.Upper {
		out = strings.ToUpper(out)
	}
	return secret.String(out)
}
