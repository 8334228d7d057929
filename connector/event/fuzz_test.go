package event

import (
	"errors"
	"reflect"
	"slices"
	"testing"
)

// FuzzFromRecord feeds FromRecord arbitrary inner JSON and times. It must
// never panic; it either fails with a *ParseError of a known reason, or
// gives a Call whose event encodes and decodes back equal.
func FuzzFromRecord(f *testing.F) {
	_, recs := sampleRecords(f)
	for _, r := range recs {
		msg := ""
		if r.Message != nil {
			msg = *r.Message
		}
		f.Add(r.Content, msg, r.DepartmentName, r.GmtCreateTime, r.MsgTime)
	}
	f.Add("", "", "", "2025-03-21 14:43:03", "2025-03-21 14:43:03")
	f.Add(`{"Sentences":null,"TaskId":"t"}`, `{"StatusCode":1}`, `[{"id":1,"level":"1..2","name":"x"}]`, "2025-03-21 14:43:03", "2025-03-21 14:43:03")
	f.Add(`{"TaskId":"t","RequestTime":-9223372036854775808,"SolveTime":9223372036854775807}`, "", "[]", "0001-01-01 00:00:00", "9999-12-31 23:59:59")
	base := recs[4]
	enc, dec := NewEncoder(), NewDecoder(nil)
	f.Fuzz(func(t *testing.T, content, message, departments, created, msgTime string) {
		r := base
		r.Content, r.Message, r.DepartmentName, r.GmtCreateTime, r.MsgTime = content, &message, departments, created, msgTime
		c, err := FromRecord(&r)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || !slices.Contains(Reasons(), pe.Reason) {
				t.Fatalf("FromRecord error %v (%T), want a *ParseError with a known reason", err, err)
			}
			return
		}
		e := &Event{EventID: ID(r.ID, r.Status, r.Content), Kind: Created, Call: c, Source: testSource}
		value, err := enc.AppendEvent(nil, e)
		if err != nil {
			t.Fatalf("encoding a parsed record: %v", err)
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
