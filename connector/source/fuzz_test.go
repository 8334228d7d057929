package source

import (
	"encoding/json"
	"testing"
)

func FuzzDecodePage(f *testing.F) {
	s := sample(f)
	f.Add(s)
	f.Add(s[:len(s)/2])
	f.Add([]byte(`{"code":401,"message":"sign invalid","data":null}`))
	f.Add([]byte(`{"code":0,"data":{"totalCount":1,"totalPage":1,"pageNo":1,"pageSize":30,"result":[{"id":1}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := decodePage(body)
		if err != nil {
			if KindOf(err) == "" {
				t.Fatalf("error without a kind: %v", err)
			}
			return
		}
		if p.TotalCount < 0 || p.TotalPage < 0 || p.PageNo < 0 || p.PageSize < 0 {
			t.Fatalf("negative counts in %+v", p)
		}
		for i, r := range p.Records {
			if !json.Valid(r) {
				t.Fatalf("record %d is not valid JSON: %q", i, r)
			}
		}
	})
}

func FuzzPeekID(f *testing.F) {
	p, err := decodePage(sample(f))
	if err != nil {
		f.Fatal(err)
	}
	for _, r := range p.Records {
		f.Add([]byte(r))
	}
	for _, s := range []string{`{"id":9007199254740993}`, `{"ID":1,"id":null}`, `{"i\u0064":2}`, `{"x":"\"id\":3","id":4}`, `{"ıd":5}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		id, peekErr := PeekID(raw)
		r, err := DecodeRecord(raw)
		if err != nil {
			return
		}
		if peekErr != nil || id != r.ID {
			t.Fatalf("PeekID = %d, %v; DecodeRecord says %d for %q", id, peekErr, r.ID, raw)
		}
	})
}
