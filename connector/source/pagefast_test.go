package source

import (
	"bytes"
	"encoding/json"
	"testing"
)

// pageSeeds are bodies that take the fast path, or must leave it.
var pageSeeds = []string{
	`{"code":0,"message":"success","data":{"totalCount":2,"totalPage":1,"pageNo":1,"pageSize":30,"result":[{"id":1,"a":[1,-2.5e+3,true,null,{"b":"\u00e9\n"}]} , {"id":2}],"message":"38秒"}}`,
	`{"code":0,"data":{"result":null}}`, `{"code":0,"data":{"result":[]}}`, `{"code":0,"data":null}`,
	`{"code":null,"data":{}}`, `{"Code":0,"data":{}}`, `{"code":0,"data":{"result":[01]}}`,
	`{"code":0,"data":{"result":[1.]}}`, `{"code":0,"data":{"result":["\x"]}}`, `{"code":0,"data":{"result":[tru]}}`,
	`{"code":0,"data":{"result":[{"a" 1}]}}`, `{"code":0,"data":{"result":[{"a":1,}]}}`, `{"code":0,"data":{"totalCount":-1}}`,
	`{"code":0,"data":{"result":[1]},"data":{"pageNo":3}}`, `{"code":0,"data":{}} x`, `{"code":1.5}`,
	`{"code":0,"data":{"result":["` + "\x01" + `"]}}`, `{"code":0,"data":{"result":["\ud800"]}}`, `{}`,
}

func TestDecodePageFastMatchesEncodingJSON(t *testing.T) {
	if _, ok := decodePageFast(sample(t)); !ok {
		t.Error("the vendor's sample response left the fast path")
	}
	checkPageFast(t, sample(t))
	for _, s := range pageSeeds {
		checkPageFast(t, []byte(s))
	}
}

// checkPageFast checks that when the fast decoder accepts body,
// encoding/json decodes it to the same fields.
func checkPageFast(t *testing.T, body []byte) {
	t.Helper()
	got, ok := decodePageFast(body)
	if !ok {
		return
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("fast path accepted %q, which encoding/json rejects: %v", body, err)
	}
	if (env.Code != nil) != got.hasCode || (env.Code != nil && *env.Code != got.code) ||
		env.Message != got.message || (env.Data != nil) != got.hasData {
		t.Fatalf("envelope of %q: fast %+v, encoding/json %+v", body, got, env)
	}
	if d := env.Data; d != nil {
		if int64(d.TotalCount) != got.totalCount || int64(d.TotalPage) != got.totalPage || int64(d.PageNo) != got.pageNo ||
			int64(d.PageSize) != got.pageSize || d.Message != got.dataMessage || len(d.Result) != len(got.result) {
			t.Fatalf("data of %q: fast %+v, encoding/json %+v", body, got, *d)
		}
		for i := range d.Result {
			if !bytes.Equal(d.Result[i], got.result[i]) {
				t.Fatalf("record %d of %q: fast %q, encoding/json %q", i, body, got.result[i], d.Result[i])
			}
		}
	}
}

func FuzzDecodePageFast(f *testing.F) {
	f.Add(sample(f))
	for _, s := range pageSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkPageFast(t, body) })
}
