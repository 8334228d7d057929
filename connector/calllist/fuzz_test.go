package calllist

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"slices"
	"testing"

	"github.com/callstream/callstream/connector/event"
	"github.com/cespare/xxhash/v2"
)

// FuzzDecodePage: DecodePage refuses what encoding/json refuses as JSON and
// accepts only valid JSON; every record it slices is valid JSON with its
// hash, and either an id or a reason.
func FuzzDecodePage(f *testing.F) {
	s, err := os.ReadFile("testdata/getCallList.sample-response.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(s)
	f.Add(s[:len(s)/2])
	f.Add([]byte(`{"code":401,"message":"sign invalid","data":null}`))
	f.Add(page(`{"id":1},{"id":"x"},[],{"ID":2,"id":3,"id":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := DecodePage(body)
		valid := json.Valid(body)
		if err != nil {
			var ce *CodeError
			if !errors.Is(err, ErrMalformed) && !errors.As(err, &ce) {
				t.Fatalf("error %v is neither ErrMalformed nor a *CodeError", err)
			}
			if ce != nil && !valid {
				t.Fatalf("code %d read from invalid JSON", ce.Code)
			}
			return
		}
		if !valid {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		if p.TotalCount < 0 || p.TotalPage < 0 || p.PageNo < 0 || p.PageSize < 0 {
			t.Fatalf("negative counts in %+v", p)
		}
		for i, r := range p.Records {
			if !json.Valid(r.JSON) || r.Hash != xxhash.Sum64(r.JSON) {
				t.Fatalf("record %d: %q, hash %x", i, r.JSON, r.Hash)
			}
			var de *DecodeError
			if (r.Err == nil) == (r.ID == 0) || (r.Err != nil && !errors.As(r.Err, &de)) {
				t.Fatalf("record %d: id %d, err %v", i, r.ID, r.Err)
			}
		}
	})
}

// FuzzDecodeCall: DecodeCall says record_json exactly for what encoding/json
// refuses as JSON; its other failures are *DecodeError of a known reason;
// a call it reads encodes to Avro and decodes back equal.
func FuzzDecodeCall(f *testing.F) {
	for _, r := range samplePage(f).Records {
		f.Add(r.JSON)
	}
	f.Add([]byte(`{"id":1,"status":2,"gmtCreateTime":"2025-03-21 14:43:03","msgTime":"2025-03-21 14:43:03","x":{"y":[1,"\u00e9"]}}`))
	f.Add([]byte(`{"id":1,"status":0,"gmtCreateTime":"2025-03-21 14:43:03","msgTime":"0001-01-01 00:00:00","content":"{\"TaskId\":\"t\",\"RequestTime\":-9223372036854775808}"}`))
	enc, dec := event.NewEncoder(), event.NewDecoder(nil)
	f.Fuzz(func(t *testing.T, raw []byte) {
		rec, err := DecodeCall(raw)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || !slices.Contains(Reasons(), de.Reason) {
				t.Fatalf("error %v (%T), want a *DecodeError with a known reason", err, err)
			}
			if !json.Valid(raw) && de.Reason != ReasonRecordJSON {
				t.Fatalf("invalid JSON refused with reason %s", de.Reason)
			}
			return
		}
		if !json.Valid(raw) {
			t.Fatalf("accepted invalid JSON %q", raw)
		}
		e := &event.Event{EventID: event.ID(rec.Call.ID, rec.Call.Status, rec.Content), Kind: event.Created, Call: rec.Call}
		value, err := enc.AppendEvent(nil, e)
		if err != nil {
			t.Fatalf("encoding a decoded record: %v", err)
		}
		got, err := dec.DecodeEvent(value)
		if err != nil {
			t.Fatalf("decoding: %v", err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Fatalf("round trip:\n got %s\nwant %s", jsonOf(t, got), jsonOf(t, e))
		}
	})
}
