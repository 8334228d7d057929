package event

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/callstream/callstream/schemas"
)

// callEventFingerprint is the schema appendCallEvent is written for: when
// schemas/call_event.avsc changes, change avro.go with it, then this.
const callEventFingerprint = "2932b1e122df30e0"

func TestCallEventEncoderKnowsTheSchema(t *testing.T) {
	if got := fmt.Sprintf("%x", schemas.CallEvent().Fingerprint()); got != callEventFingerprint {
		t.Fatalf("schemas/call_event.avsc has fingerprint %s; appendCallEvent (avro.go) is written for %s: "+
			"make it encode the new schema field for field, then update callEventFingerprint", got, callEventFingerprint)
	}
}

// libraryBytes encodes e with the Avro library behind package schemas,
// naming the content union's branch as the library needs for a task
// status.
func libraryBytes(t testing.TB, e *Event) []byte {
	t.Helper()
	var v any = e
	if ts, ok := e.Call.Content.(*TaskStatus); ok {
		ev, c := *e, *e.Call
		c.Content = map[string]any{taskStatusBranch: ts}
		ev.Call = &c
		v = &ev
	}
	b, err := schemas.CallEvent().Append(nil, v)
	if err != nil {
		t.Fatalf("library: %v", err)
	}
	return b
}

// eventShapes are the samples and every optional part of an event on its
// own: each kind, a previous status, no content, a task status, one key in
// each extra map, departments without a path, negative and large numbers,
// times before the epoch.
func eventShapes(t testing.TB) []*Event {
	events := sampleEvents(t)
	base := events[len(events)-1]
	with := func(edit func(e *Event, c *Call)) *Event {
		e, c := *base, *base.Call
		edit(&e, &c)
		e.Call = &c
		return &e
	}
	one := map[string]string{"k": `{"a":[1,"é"]}`}
	prev := int32(-7)
	events = append(events,
		with(func(e *Event, c *Call) { e.Kind, e.PreviousStatus = StatusChanged, &prev }),
		with(func(e *Event, c *Call) { e.Kind = Updated }),
		with(func(e *Event, c *Call) { c.Content, c.Message = nil, nil }),
		with(func(e *Event, c *Call) {
			ts := &TaskStatus{TaskID: "t", StatusText: "FAILED", RequestTime: time.UnixMilli(-1).UTC(),
				SolveTime: time.UnixMilli(1 << 50).UTC(), StatusCode: -1 << 40, Extra: one}
			c.Content, c.Message = ts, ts
		}),
		with(func(e *Event, c *Call) {
			c.Extra = one
			c.Departments = []Department{{ID: -1, Name: "无路径", Extra: one}, {ID: 1 << 62, Path: []int64{0, -5, 1 << 62}}}
			c.Content = &Transcript{Extra: one, Sentences: []Sentence{{BeginTimeMs: -3, Text: "", ChannelID: -1 << 31, Extra: one}}}
		}),
		with(func(e *Event, c *Call) {
			c.ID, c.Status, c.PreCost, c.Cost, c.SalesID = -1<<63, 1<<31-1, 1<<63-1, 63, 64
			c.GmtCreateTime = time.Date(1, 1, 1, 0, 0, 0, 999_999_999, time.UTC)
			c.MsgTime = time.Date(1969, 12, 31, 23, 59, 59, 1, time.UTC)
			e.Source.ObservedAt = time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.UTC)
		}),
	)
	return events
}

func TestCallEventBytesAreTheLibrarys(t *testing.T) {
	for i, e := range eventShapes(t) {
		got, err := appendCallEvent(nil, e)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if want := libraryBytes(t, e); !bytes.Equal(got, want) {
			t.Errorf("event %d (%s):\n got %x\nwant %x", i, jsonOf(t, e), got, want)
		}
	}
}

// Maps of several keys: the library writes them in Go's map order, the
// encoder in key order, so that equal events give equal bytes; both decode
// to the same map.
func TestCallEventMapsInKeyOrder(t *testing.T) {
	m := map[string]string{"b": "2", "a": "1", "c": "3"}
	if got, want := appendMap(nil, m), "\x06\x02a\x021\x02b\x022\x02c\x023\x00"; string(got) != want {
		t.Errorf("map encoded as %q, want %q", got, want)
	}
	e := eventShapes(t)[0]
	c := *e.Call
	c.Extra = m
	e.Call = &c
	value, err := NewEncoder().AppendEvent(nil, e)
	if err != nil {
		t.Fatal(err)
	}
	if back, err := NewDecoder(nil).DecodeEvent(value); err != nil || !reflect.DeepEqual(back, e) {
		t.Errorf("round trip: %v\n got %s\nwant %s", err, jsonOf(t, back), jsonOf(t, e))
	}
}

// FuzzCallEventBytes: whatever its strings and numbers, an event encodes
// to the library's bytes.
func FuzzCallEventBytes(f *testing.F) {
	f.Add(int64(661181201146016), int32(2), "转换成功", "您好,欢迎", int64(1742538188519), uint8(1), "k", "v")
	f.Add(int64(-1), int32(-1), "", "", int64(-62135596800001), uint8(2), "", "")
	f.Fuzz(func(t *testing.T, id int64, status int32, name, text string, millis int64, shape uint8, key, value string) {
		when := time.UnixMilli(millis).UTC()
		c := &Call{ID: id, Status: status, SalesName: name, SendName: text, PreCost: millis, GmtCreateTime: when, MsgTime: when}
		if shape&1 != 0 {
			c.Extra = map[string]string{key: value}
			c.Departments = []Department{{ID: millis, Level: key, Path: []int64{id, millis}, Name: name}}
		}
		switch shape >> 1 % 3 {
		case 1:
			c.Content = &Transcript{Sentences: []Sentence{{BeginTimeMs: millis, Text: text, ChannelID: status}}}
		case 2:
			ts := &TaskStatus{TaskID: key, StatusText: value, RequestTime: when, SolveTime: when, StatusCode: id}
			c.Content, c.Message = ts, ts
		}
		e := &Event{EventID: ID(id, status, text), Kind: Kinds()[int(shape)%3], Call: c,
			Source: Source{App: key, Name: value, WindowStart: when, WindowEnd: when, ObservedAt: when}}
		if shape&8 != 0 {
			e.PreviousStatus = &status
		}
		got, err := appendCallEvent(nil, e)
		if err != nil {
			t.Fatal(err)
		}
		if want := libraryBytes(t, e); !bytes.Equal(got, want) {
			t.Fatalf("%s:\n got %x\nwant %x", jsonOf(t, e), got, want)
		}
	})
}
