package source

import (
	"encoding/json"
	"reflect"
	"testing"
)

// fastSeeds are records that take the fast path, or must leave it.
var fastSeeds = []string{
	`{"id":661181201146016,"status":2,"message":null,"content":"{\"Sentences\":[{\"Text\":\"\u4f60\u597d \\\"x\\\"\"}]}","createTime":null}`,
	`{"id":1,"message":"","salesId":-5,"cost":0,"statusStr":"已转换","url":"https:\/\/x\/y"}`,
	`{"id":1,"status":2147483648}`,
	`{"id":1.0}`, `{"id":01}`, `{"id":"1"}`, `{"ID":1}`, `{"id":1,"extra":1}`, `{"id":1,"sender":"x"}`,
	`{"id":1,"taskId":"\ud83d\ude00"}`, `{"id":1,"taskId":"\ud83d"}`, `{"id":1,"taskId":"a` + "\xff" + `"}`,
	`{"id":1} x`, ` {"id":2} `, `{}`, `{"id":null}`, `{"id":1,"message":"a","message":null}`,
}

func TestDecodeFastMatchesEncodingJSON(t *testing.T) {
	p, err := decodePage(sample(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range p.Records {
		if _, ok := decodeFast(r); !ok {
			t.Errorf("the vendor's sample record left the fast path: %s", r)
		}
		checkFast(t, r)
	}
	for _, s := range fastSeeds {
		checkFast(t, []byte(s))
	}
}

// checkFast checks that decodeFast, when it accepts raw, decodes it as
// encoding/json does.
func checkFast(t *testing.T, raw []byte) {
	t.Helper()
	got, ok := decodeFast(raw)
	if !ok {
		return
	}
	var want Record
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatalf("decodeFast accepted %q, which encoding/json rejects: %v", raw, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeFast(%q) =\n%+v\nencoding/json:\n%+v", raw, got, want)
	}
}

func FuzzDecodeFast(f *testing.F) {
	p, err := decodePage(sample(f))
	if err != nil {
		f.Fatal(err)
	}
	for _, r := range p.Records {
		f.Add([]byte(r))
	}
	for _, s := range fastSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) { checkFast(t, raw) })
}
