package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

var validSeeds = []string{
	`{"a":[1,-0.5e+3,true,false,null,"\u00e9\n\/"]}`, `[]`, `{}`, `"x"`, `-0`, `1E5`, ` 1 `,
	`01`, `1.`, `-`, `.5`, `"\x"`, `"\u12"`, `[1,]`, `{"a" 1}`, `{1:2}`, `tru`, `nul`, `"` + "\x01" + `"`,
	`"` + "\xff" + `"`, strings.Repeat("[", 70) + strings.Repeat("]", 70),
}

// checkValid checks that Valid followed by End agrees with json.Valid,
// except that Valid gives up past its nesting bound.
func checkValid(t *testing.T, in []byte) {
	t.Helper()
	s := New(in)
	s.WS()
	got := s.Valid() && s.End()
	if want := json.Valid(in); got != want && !(want && strings.Count(string(in), "[")+strings.Count(string(in), "{") > maxDepth) {
		t.Fatalf("Valid(%q) = %v, json.Valid = %v", in, got, want)
	}
}

func TestValidAgreesWithEncodingJSON(t *testing.T) {
	for _, in := range validSeeds {
		checkValid(t, []byte(in))
	}
}

func FuzzValid(f *testing.F) {
	for _, in := range validSeeds {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) { checkValid(t, in) })
}

func TestStringValueUnescapes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{`"plain"`, "plain", true},
		{`"a\"b\\c\/d\n\t\u4f60\ud83d\ude00"`, "a\"b\\c/d\n\t你😀", true},
		{`"lone \ud800"`, "", false},
		{`"bad \q"`, "", false},
		{`"unterminated`, "", false},
	} {
		got, ok := New([]byte(tc.in)).StringValue()
		if got != tc.want || ok != tc.ok {
			t.Errorf("StringValue(%s) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
