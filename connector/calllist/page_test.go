package calllist

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/cespare/xxhash/v2"
)

func TestDecodePageSample(t *testing.T) {
	p := samplePage(t)
	if p.TotalCount != 8 || p.TotalPage != 1 || p.PageNo != 1 || p.PageSize != 30 {
		t.Errorf("page = %+v", p)
	}
	wantIDs := []int64{661181201146016, 661148725483680, 661147465132192, 660479264807072,
		660475461327008, 660472554074272, 660472472553632, 660472349397152}
	for i, r := range p.Records {
		if r.Err != nil || r.ID != wantIDs[i] {
			t.Errorf("record %d: id %d, %v; want %d", i, r.ID, r.Err, wantIDs[i])
		}
		if r.Hash != xxhash.Sum64(r.JSON) || r.JSON[0] != '{' || r.JSON[len(r.JSON)-1] != '}' {
			t.Errorf("record %d: hash %x of %.20q…", i, r.Hash, r.JSON)
		}
	}
}

func page(result string) []byte {
	return fmt.Appendf(nil, `{"code":0,"message":"success","data":{"totalCount":1,"totalPage":1,"pageNo":1,"pageSize":30,"result":[%s],"message":"1秒"}}`, result)
}

func TestDecodePageRecords(t *testing.T) {
	tests := []struct {
		record string
		id     int64
		reason string
	}{
		{`{"id":661181201146016}`, 661181201146016, ""},
		{`{"id":9007199254740993}`, 9007199254740993, ""}, // 2^53+1: a float64 would say ...992
		{`{"id":9223372036854775807}`, 9223372036854775807, ""},
		{`{"ID":5,"id":7}`, 7, ""},
		{`{"id":5,"id":null}`, 5, ""},
		{`{ "content" : "{\"id\":1}" , "a":[{"id":2},[3]],"b":{"id":{"id":4}}, "n":-1.5e3,"t":true,"z":null, "i\u0064" : 6 }`, 6, ""},
		{`{}`, 0, ReasonNoID},
		{`{"id":null}`, 0, ReasonNoID},
		{`{"id":0}`, 0, ReasonNoID},
		{`{"Id":3}`, 0, ReasonNoID},
		{`{"id":1.5}`, 0, ReasonRecordJSON},
		{`{"id":"7"}`, 0, ReasonRecordJSON},
		{`{"id":9223372036854775808}`, 0, ReasonRecordJSON},
		{`null`, 0, ReasonRecordJSON},
		{`[1]`, 0, ReasonRecordJSON},
		{`"x"`, 0, ReasonRecordJSON},
	}
	for _, tc := range tests {
		p, err := DecodePage(page(tc.record))
		if err != nil {
			t.Fatalf("%s: %v", tc.record, err)
		}
		r := p.Records[0]
		var de *DecodeError
		switch {
		case tc.reason == "" && (r.Err != nil || r.ID != tc.id):
			t.Errorf("%s: id %d, %v; want %d", tc.record, r.ID, r.Err, tc.id)
		case tc.reason != "" && (!errors.As(r.Err, &de) || de.Reason != tc.reason || r.ID != 0):
			t.Errorf("%s: id %d, %v; want reason %s", tc.record, r.ID, r.Err, tc.reason)
		}
		if string(r.JSON) != tc.record {
			t.Errorf("%s: sliced %s", tc.record, r.JSON)
		}
	}
}

func TestDecodePageErrors(t *testing.T) {
	sample, err := os.ReadFile("testdata/getCallList.sample-response.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, body string
		code       int // 0: malformed
		says       string
	}{
		{"business", `{"code":500,"message":"系统繁忙","data":null}`, 500, "系统繁忙"},
		{"auth", `{"code":401,"message":"sign invalid"}`, 401, "sign invalid"},
		{"no code", `{"message":"success","data":{}}`, 0, "no code"},
		{"null code", `{"code":null,"data":{}}`, 0, "no code"},
		{"code a string", `{"code":"0","data":{}}`, 0, "integer"},
		{"no data", `{"code":0,"message":"success"}`, 0, "no data"},
		{"null data", `{"code":0,"data":null}`, 0, "no data"},
		{"negative", `{"code":0,"data":{"totalCount":-1}}`, 0, "negative"},
		{"truncated", string(sample[:len(sample)/2]), 0, "truncated"},
		{"not JSON", `<html>502</html>`, 0, "invalid JSON"},
		{"trailing", `{"code":0,"data":{}} {}`, 0, "after the top-level value"},
		{"result an object", `{"code":0,"data":{"result":{}}}`, 0, "not an array"},
		{"empty", ``, 0, "truncated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodePage([]byte(tc.body))
			var ce *CodeError
			switch {
			case err == nil:
				t.Fatal("no error")
			case tc.code != 0 && (!errors.As(err, &ce) || ce.Code != tc.code || ce.Message != tc.says):
				t.Errorf("error %v, want code %d saying %q", err, tc.code, tc.says)
			case tc.code == 0 && (!errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.says)):
				t.Errorf("error %q, want ErrMalformed saying %q", err, tc.says)
			}
		})
	}
}

func TestDecodePageNullsAndUnknownKeys(t *testing.T) {
	p, err := DecodePage([]byte(`{"extra":[1],"code":0,"message":null,"data":{"totalCount":0,"result":null,"new":{}}}`))
	if err != nil || len(p.Records) != 0 || p.TotalCount != 0 {
		t.Fatalf("page = %+v, %v", p, err)
	}
	if !bytes.Equal(page(`{"id":1}`), page(`{"id":1}`)) {
		t.Fatal("page is not deterministic")
	}
}
