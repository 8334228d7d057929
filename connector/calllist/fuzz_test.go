package calllist

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/simulator"
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
		agreesWithEncodingJSON(t, raw, rec)
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

// agreesWithEncodingJSON checks the top-level fields of a decoded record
// against encoding/json's reading of the same bytes (a map: keys exact, the
// last of twice wins), for the fields whose last value is not null.
func agreesWithEncodingJSON(t *testing.T, raw []byte, rec Record) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	c := rec.Call
	sameAs(t, m, map[string]string{"taskId": c.TaskID, "corpId": c.CorpID, "type": c.Type, "msgId": c.MsgID,
		"statusStr": c.StatusStr, "method": c.Method, "salesName": c.SalesName, "sendName": c.SendName,
		"receiveName": c.ReceiveName, "callType": c.CallType, "url": c.URL, "content": rec.Content})
	sameAs(t, m, map[string]int64{"id": c.ID, "status": int64(c.Status), "preCost": c.PreCost, "cost": c.Cost, "salesId": c.SalesID})
}

// sameAs checks each got[key] against encoding/json's reading of m[key],
// where m holds the key with a value other than null.
func sameAs[T comparable](t *testing.T, m map[string]json.RawMessage, got map[string]T) {
	t.Helper()
	for key, g := range got {
		var want T
		if v, ok := m[key]; ok && string(v) != "null" {
			if err := json.Unmarshal(v, &want); err != nil {
				t.Fatalf("%s: encoding/json: %v", key, err)
			}
			if g != want {
				t.Fatalf("%s = %#v, encoding/json reads %#v", key, g, want)
			}
		}
	}
}

// FuzzSimulatorRoundTrip: a record the simulator's own encoder writes
// (an implementation that shares no code with this package) decodes into
// the call it describes, whatever its text.
func FuzzSimulatorRoundTrip(f *testing.F) {
	f.Add(int64(661181201146016), int32(2), "白玉米", "赵润-向量智享科技", "您好,欢迎\"您\"\\使用", int64(1742538188519))
	f.Add(int64(1), int32(0), "", "\u0000\u2028<>&", "\ufffd", int64(-5))
	f.Fuzz(func(t *testing.T, id int64, status int32, send, receive, text string, salesID int64) {
		if id == 0 {
			return
		}
		send = strings.ToValidUTF8(send, "\uFFFD")
		receive = strings.ToValidUTF8(receive, "\uFFFD")
		text = strings.ToValidUTF8(text, "\uFFFD")
		content, err := json.Marshal(map[string]any{"Sentences": []map[string]any{{"BeginTime": 0, "EndTime": 10, "Text": text, "ChannelId": 1}}})
		if err != nil {
			t.Fatal(err)
		}
		deps := `[{"id":105610,"level":"0.93186.105610.","name":"` + "部门" + `"}]`
		r := simulator.Record{ID: id, Status: status, SendName: send, ReceiveName: receive, SalesID: salesID,
			GmtCreateTime: "2025-03-21 14:43:03", MsgTime: "2025-03-21 14:22:45", DepartmentName: deps,
			Content: string(content), Type: "call", CallType: "微信语音"}
		rec, err := DecodeCall(r.AppendJSON(nil))
		if err != nil {
			t.Fatalf("decoding the simulator's record: %v", err)
		}
		c := rec.Call
		want := &event.Transcript{Sentences: []event.Sentence{{EndTimeMs: 10, Text: text, ChannelID: 1}}}
		if c.ID != id || c.Status != status || c.SendName != send || c.ReceiveName != receive || c.SalesID != salesID ||
			!c.GmtCreateTime.Equal(utc("2025-03-21T06:43:03Z")) || !reflect.DeepEqual(c.Content, want) ||
			len(c.Departments) != 1 || c.Departments[0].Name != "部门" || rec.Content != string(content) || c.Extra != nil {
			t.Fatalf("decoded %s from %+v", jsonOf(t, c), r)
		}
	})
}

// The nesting bound is encoding/json's: what it takes as JSON, the
// decoders take, one level deeper they refuse.
func TestNestingBoundIsEncodingJSONs(t *testing.T) {
	for _, depth := range []int{9998, 9999, 10000} {
		raw := []byte(`{"id":1,"x":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`)
		_, err := DecodeCall(raw)
		var de *DecodeError
		if refused := errors.As(err, &de) && de.Reason == ReasonRecordJSON; refused == json.Valid(raw) {
			t.Errorf("depth %d: DecodeCall says %v, json.Valid %v", depth+1, err, json.Valid(raw))
		}
		_, err = DecodePage(page(string(raw)))
		if (err == nil) != json.Valid(page(string(raw))) {
			t.Errorf("depth %d in a page: DecodePage says %v, json.Valid %v", depth+4, err, json.Valid(page(string(raw))))
		}
	}
}
