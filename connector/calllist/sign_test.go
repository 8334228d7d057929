package calllist

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/internal/vendortest"
	"github.com/callstream/callstream/secret"
)

func TestSignVectors(t *testing.T) {
	const (
		appID = "app-123"
		key   = "k3y-s3cr3t"
		ts    = "1742553261641"
	)
	body := []byte(`{"startTime":"2025-03-21 00:00:00","endTime":"2025-03-21 00:59:59","type":"call","pageNo":1,"pageSize":30}`)
	hexOf := func(b []byte) string { return fmt.Sprintf("%x", b) }
	md5Of := func(s string) string { h := md5.Sum([]byte(s)); return hexOf(h[:]) }
	hm := hmac.New(sha256.New, []byte(key))
	hm.Write([]byte(appID + ts + string(body)))
	sha1Sum := sha1.Sum([]byte(appID + "|" + key + "|" + ts))
	sha256Sum := sha256.Sum256([]byte(ts + key + string(body)))

	tests := []struct {
		spec string
		want string
	}{
		{"", md5Of(appID + ts + key)},
		{"md5:appId+timestamp+appKey:lower:ms", md5Of(appID + ts + key)},
		{"md5", md5Of(appID + ts + key)},
		{"MD5:APPID+TIMESTAMP+APPKEY:UPPER", strings.ToUpper(md5Of(appID + ts + key))},
		{"md5:appKey+appId", md5Of(key + appID)},
		{"sha1:appId+appKey+timestamp:lower:ms:|", hexOf(sha1Sum[:])},
		{"sha256:timestamp+appKey+body", hexOf(sha256Sum[:])},
		{"hmac-sha256:appId+timestamp+body", hexOf(hm.Sum(nil))},
		{"hmac-sha256:appId+appKey+timestamp+body", hexOf(hm.Sum(nil))},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			s, err := ParseSigner(tc.spec)
			if err != nil {
				t.Fatalf("ParseSigner(%q): %v", tc.spec, err)
			}
			got := s.Sign(appID, secret.String(key), ts, body).Reveal()
			if got != tc.want {
				t.Errorf("spec %q: sign = %s, want %s", tc.spec, got, tc.want)
			}
		})
	}
}

func TestZeroSignerIsDefault(t *testing.T) {
	def, err := ParseSigner("")
	if err != nil {
		t.Fatal(err)
	}
	var zero Signer
	if zero.String() != DefaultSignSpec || def.String() != DefaultSignSpec {
		t.Errorf("zero %q, parsed default %q, want %q", zero.String(), def.String(), DefaultSignSpec)
	}
	a := zero.Sign("a", "k", "1", nil).Reveal()
	b := def.Sign("a", "k", "1", nil).Reveal()
	if a != b {
		t.Errorf("zero signer signs %s, default %s", a, b)
	}
}

func TestSignerStringRoundTrip(t *testing.T) {
	for _, spec := range []string{
		DefaultSignSpec,
		"sha256:body+appKey:upper:s",
		"hmac-sha256:timestamp+appId:lower:ms",
		"sha1:appId+timestamp+appKey:lower:ms:a:b",
	} {
		s, err := ParseSigner(spec)
		if err != nil {
			t.Fatalf("ParseSigner(%q): %v", spec, err)
		}
		if s.String() != spec {
			t.Errorf("ParseSigner(%q).String() = %q", spec, s.String())
		}
	}
}

func TestParseSignerErrors(t *testing.T) {
	tests := []struct{ spec, wantPart string }{
		{"md6", `digest "md6"`},
		{"md5:appId+nonce", `field "nonce"`},
		{"md5:", "empty field list"},
		{"md5:appId+appId", `field "appId" repeated`},
		{"md5:appId:mixed", `case "mixed"`},
		{"md5:appId:lower:us", `unit "us"`},
		{"hmac-sha256:appKey", "hmac-sha256 needs a field"},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			_, err := ParseSigner(tc.spec)
			if err == nil || !strings.Contains(err.Error(), tc.wantPart) {
				t.Errorf("ParseSigner(%q) = %v, want an error naming %s", tc.spec, err, tc.wantPart)
			}
		})
	}
}

func TestTimestamp(t *testing.T) {
	at := time.Date(2025, 3, 21, 10, 34, 21, 641e6, time.UTC)
	ms, _ := ParseSigner("md5:appId:lower:ms")
	s, _ := ParseSigner("md5:appId:lower:s")
	if got := ms.Timestamp(at); got != "1742553261641" {
		t.Errorf("ms timestamp = %s", got)
	}
	if got := s.Timestamp(at); got != "1742553261" {
		t.Errorf("s timestamp = %s", got)
	}
}

// The client signs exactly as the table shared with the simulator's tests
// says, and refuses the recipes the table calls bad.
func TestSharedSignVectors(t *testing.T) {
	for _, v := range vendortest.SignVectors {
		s, err := ParseSigner(v.Spec)
		if err != nil {
			t.Fatalf("ParseSigner(%q): %v", v.Spec, err)
		}
		at := time.UnixMilli(1742553261641)
		if ts := s.Timestamp(at); ts != v.Timestamp {
			t.Errorf("spec %q: timestamp %s, want %s", v.Spec, ts, v.Timestamp)
		}
		got := s.Sign(vendortest.SignAppID, vendortest.SignAppKey, v.Timestamp, []byte(vendortest.SignBody)).Reveal()
		if got != v.Sign {
			t.Errorf("spec %q: sign %s, want %s", v.Spec, got, v.Sign)
		}
	}
	if DefaultSignSpec != vendortest.DefaultSignSpec {
		t.Errorf("DefaultSignSpec %q, the table's %q", DefaultSignSpec, vendortest.DefaultSignSpec)
	}
	for _, spec := range vendortest.BadSignSpecs {
		if _, err := ParseSigner(spec); err == nil {
			t.Errorf("ParseSigner(%q) accepted it", spec)
		}
	}
}
