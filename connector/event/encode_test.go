package event

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/callstream/callstream/schemas"
)

// testSource is a Source with millisecond UTC times, which survive the
// round trip exactly.
var testSource = Source{
	App: "app-1", Type: "call", Tier: "live",
	WindowStart: utc("2025-03-25T06:00:00Z"), WindowEnd: utc("2025-03-25T06:59:59Z"),
	ObservedAt: utc("2025-03-25T07:00:05.123Z"), ConnectorVersion: "v1.2.3", Name: "scrm",
}

// registryLookup serves the embedded schemas under ids 7 and 8.
func registryLookup(id int) (string, error) {
	switch id {
	case 7:
		return schemas.CallEvent().Text(), nil
	case 8:
		return schemas.DeadLetter().Text(), nil
	}
	return "", fmt.Errorf("no schema %d", id)
}

func encoders() map[string]*Encoder {
	return map[string]*Encoder{"single-object": NewEncoder(), "registry": NewRegistryEncoder(7, 8)}
}

func TestEventRoundTrip(t *testing.T) {
	dec := NewDecoder(registryLookup)
	for name, enc := range encoders() {
		for _, e := range sampleEvents(t) {
			value, err := enc.AppendEvent(nil, e)
			if err != nil {
				t.Fatalf("%s: event %d: %v", name, e.Call.ID, err)
			}
			got, err := dec.DecodeEvent(value)
			if err != nil {
				t.Fatalf("%s: event %d: %v", name, e.Call.ID, err)
			}
			if !reflect.DeepEqual(got, e) {
				t.Errorf("%s: round trip of %d:\n got %s\nwant %s", name, e.Call.ID, jsonOf(t, got), jsonOf(t, e))
			}
			if v, err := dec.Decode(value); err != nil || !reflect.DeepEqual(v, e) {
				t.Errorf("%s: Decode of %d = %T, %v; want the event", name, e.Call.ID, v, err)
			}
		}
	}
}

func TestDeadLetterRoundTrip(t *testing.T) {
	id := int64(661181201146016)
	tests := []*DeadLetter{
		{CallID: &id, Reason: "content_json", Error: "parsing content: unexpected end", Raw: `{"id":661181201146016,"content":"{\"Sentences\":["}`, Source: testSource},
		{Reason: "record_json", Error: "no id", Raw: `{"id":`, Source: testSource},
	}
	dec := NewDecoder(registryLookup)
	for name, enc := range encoders() {
		for _, d := range tests {
			value, err := enc.AppendDeadLetter(nil, d)
			if err != nil {
				t.Fatal(err)
			}
			got, err := dec.DecodeDeadLetter(value)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, d) {
				t.Errorf("%s: round trip:\n got %+v\nwant %+v", name, got, d)
			}
		}
	}
}

func TestFraming(t *testing.T) {
	e := sampleEvents(t)[0]
	d := &DeadLetter{Reason: "encode", Source: testSource}
	ceFP, dlFP := schemas.CallEvent().Fingerprint(), schemas.DeadLetter().Fingerprint()
	tests := []struct {
		name       string
		enc        *Encoder
		wantEvent  []byte
		wantLetter []byte
	}{
		{"single-object", NewEncoder(), append([]byte{0xC3, 0x01}, ceFP[:]...), append([]byte{0xC3, 0x01}, dlFP[:]...)},
		{"registry", NewRegistryEncoder(0x01020304, 300), []byte{0, 1, 2, 3, 4}, []byte{0, 0, 0, 1, 44}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			value, err := tc.enc.AppendEvent([]byte("pre"), e)
			if err != nil {
				t.Fatal(err)
			}
			want := append([]byte("pre"), tc.wantEvent...)
			if !bytes.HasPrefix(value, want) {
				t.Errorf("event value starts % x, want % x", value[:len(want)], want)
			}
			datum, err := schemas.CallEvent().Append(nil, e)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(value[len(want):], datum) {
				t.Error("event datum differs from the schema's bare encoding")
			}
			value, err = tc.enc.AppendDeadLetter(nil, d)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(value, tc.wantLetter) {
				t.Errorf("dead letter value starts % x, want % x", value[:len(tc.wantLetter)], tc.wantLetter)
			}
		})
	}
}

func TestRegistryEncoderPanicsOnBadID(t *testing.T) {
	for _, id := range []int{-1, 1 << 31} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewRegistryEncoder(%d, 1) did not panic", id)
				}
			}()
			NewRegistryEncoder(id, 1)
		}()
	}
}

func TestEncodeErrors(t *testing.T) {
	good := sampleEvents(t)[0]
	withCall := func(edit func(c *Call)) *Event {
		e := *good
		c := *good.Call
		edit(&c)
		e.Call = &c
		return &e
	}
	badKind := *good
	badKind.Kind = "DELETED"
	tests := []struct {
		name string
		e    *Event
	}{
		{"nil event", nil},
		{"nil call", &Event{EventID: "x", Kind: Created}},
		{"content of another type", withCall(func(c *Call) { c.Content = "text" })},
		{"transcript by value", withCall(func(c *Call) { c.Content = Transcript{} })},
		{"unknown kind", &badKind},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte("keep")
			out, err := NewEncoder().AppendEvent(dst, tc.e)
			if err == nil {
				t.Fatal("AppendEvent succeeded")
			}
			if string(out) != "keep" || !strings.HasPrefix(err.Error(), "encoding call event") {
				t.Errorf("AppendEvent = %q, %v; want dst unchanged and an encoding error", out, err)
			}
		})
	}
	if _, err := NewEncoder().AppendDeadLetter(nil, nil); err == nil {
		t.Error("AppendDeadLetter(nil) succeeded")
	}
}

// TestEncodeLeavesEventAlone checks that the task-status path, which
// encodes a rewritten copy, neither changes the caller's event nor keeps
// state between calls.
func TestEncodeLeavesEventAlone(t *testing.T) {
	enc := NewEncoder()
	events := sampleEvents(t)
	first, err := enc.AppendEvent(nil, events[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := events[0].Call.Content.(*TaskStatus); !ok {
		t.Fatalf("sample event 0 has content %T, want *TaskStatus", events[0].Call.Content)
	}
	if _, err := enc.AppendEvent(nil, events[4]); err != nil {
		t.Fatal(err)
	}
	again, err := enc.AppendEvent(nil, events[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, again) {
		t.Error("encoding the same event twice gave different bytes")
	}
	if want := sampleEvents(t)[0]; !reflect.DeepEqual(events[0], want) {
		t.Error("encoding changed the caller's event")
	}
}
