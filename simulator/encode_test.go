package simulator

import (
	"encoding/json"
	"strings"
	"testing"
)

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `{"Sentences":[{"Text":"您好,欢迎。"}]}`, "tab\tnew\nline\r\x00\x1f", "bad \xff utf8", `back\slash "quote"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := appendString([]byte("x"), s)
		var got string
		if err := json.Unmarshal(enc[1:], &got); err != nil {
			t.Fatalf("appendString(%q) = %s: %v", s, enc[1:], err)
		}
		if want := strings.ToValidUTF8(s, "\uFFFD"); got != want {
			t.Fatalf("appendString(%q) decodes to %q", s, got)
		}
	})
}
