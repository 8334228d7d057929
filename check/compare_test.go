package check

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/simulator"
)

func ev(topic string, offset, id int64, status int32, prev *int32) EventRecord {
	kind := event.Created
	if prev != nil {
		kind = event.StatusChanged
	}
	return EventRecord{
		Meta: Meta{Topic: topic, Offset: offset, Key: strconv.FormatInt(id, 10)},
		Event: &event.Event{EventID: event.ID(id, status, ""), Kind: kind, PreviousStatus: prev,
			Call: &event.Call{ID: id, Status: status}},
	}
}

func st(s int32) *int32 { return &s }

func dead(offset, id int64, raw string) DeadLetterRecord {
	return DeadLetterRecord{
		Meta:       Meta{Topic: "calls.dlq", Offset: offset, Key: strconv.FormatInt(id, 10)},
		DeadLetter: &event.DeadLetter{CallID: &id, Reason: "content_json", Raw: raw},
	}
}

// fixture is a correct output: call 1 converts after being seen in
// progress, call 2 fails after being seen in progress, call 3 is first
// seen converted, call 4 is dead-lettered, call 5 is first seen failed.
func fixture() ([]simulator.Record, *Output, map[int64]bool) {
	truth := []simulator.Record{{ID: 1, Status: 2}, {ID: 2, Status: 0}, {ID: 3, Status: 2}, {ID: 4, Status: 2}, {ID: 5, Status: 0}}
	out := &Output{
		Topics: DefaultTopics(),
		Events: []EventRecord{
			ev("calls", 0, 1, 1, nil),
			ev("calls", 1, 2, 1, nil),
			ev("calls", 2, 1, 2, st(1)),
			ev("calls", 3, 3, 2, nil),
			ev("calls.failed", 0, 2, 0, st(1)),
			ev("calls.failed", 1, 5, 0, nil),
		},
		DeadLetters: []DeadLetterRecord{dead(0, 4, `{"id":4}`)},
		Latest: []EventRecord{
			ev("calls.latest", 0, 1, 1, nil),
			ev("calls.latest", 1, 2, 1, nil),
			ev("calls.latest", 2, 1, 2, st(1)),
			ev("calls.latest", 3, 3, 2, nil),
			ev("calls.latest", 4, 2, 0, st(1)),
			ev("calls.latest", 5, 5, 0, nil),
		},
	}
	return truth, out, map[int64]bool{4: true}
}

// eventAt returns the fixture event of call id with status s.
func eventAt(o *Output, id int64, s int32) *EventRecord {
	i := slices.IndexFunc(o.Events, func(er EventRecord) bool { return er.Event.Call.ID == id && er.Event.Call.Status == s })
	return &o.Events[i]
}

func without(o *Output, id int64, s int32) {
	o.Events = slices.DeleteFunc(o.Events, func(er EventRecord) bool { return er.Event.Call.ID == id && er.Event.Call.Status == s })
}

func TestCompare(t *testing.T) {
	tests := []struct {
		name       string
		mutate     func(o *Output)
		want       string // a substring of a problem; "" for a passing output
		lost, dups int
	}{
		{"correct output", func(*Output) {}, "", 0, 0},
		{"duplicate event", func(o *Output) { o.Events = append(o.Events, ev("calls", 4, 3, 2, nil)) }, "call 3 status 2: again", 0, 1},
		{"lost call", func(o *Output) { without(o, 3, 2) }, "call 3 (status 2): no event", 1, 0},
		{"lost status change", func(o *Output) { without(o, 1, 2) }, "call 1: last status 1, truth says 2", 1, 0},
		{"gap before a change", func(o *Output) { without(o, 2, 1) }, "follows status 1, which has no event", 1, 0},
		{"wrong order", func(o *Output) { eventAt(o, 1, 1).Offset, eventAt(o, 1, 2).Offset = 2, 0 }, "in the log, after it in the chain", 0, 0},
		{"unknown id", func(o *Output) { o.Events = append(o.Events, ev("calls", 4, 99, 2, nil)) }, "call 99 is not in the truth", 0, 0},
		{"wrong topic", func(o *Output) { eventAt(o, 3, 2).Topic = "calls.failed" }, "status 2 in topic calls.failed, want calls", 0, 0},
		{"failed call in calls topic", func(o *Output) { eventAt(o, 5, 0).Topic = "calls" }, "call 5 failed (status 0) but is not in the failed topic", 0, 0},
		{"missing dead letter", func(o *Output) { o.DeadLetters = nil }, "call 4: no dead letter", 1, 0},
		{"unexpected dead letter", func(o *Output) { o.DeadLetters = append(o.DeadLetters, dead(1, 3, "{}")) }, "unexpected dead letter", 0, 0},
		{"duplicate dead letter", func(o *Output) { o.DeadLetters = append(o.DeadLetters, dead(1, 4, `{"id":4}`)) }, "repeats a raw record", 0, 1},
		{"dead letter without id", func(o *Output) { o.DeadLetters[0].DeadLetter.CallID = nil }, "without a call id", 1, 0},
		{"wrong key", func(o *Output) { eventAt(o, 3, 2).Key = "3 " }, `key "3 ", want the call id 3`, 0, 0},
		{"CREATED twice", func(o *Output) {
			e := eventAt(o, 1, 2).Event
			e.Kind, e.PreviousStatus = event.Created, nil
		}, "CREATED again", 1, 0},
		{"CREATED with previous status", func(o *Output) { eventAt(o, 3, 2).Event.PreviousStatus = st(1) }, "CREATED with previous status 1", 0, 0},
		{"STATUS_CHANGED without previous", func(o *Output) { eventAt(o, 1, 2).Event.PreviousStatus = nil }, "STATUS_CHANGED without previous status", 1, 0},
		{"two partitions", func(o *Output) { eventAt(o, 1, 2).Partition = 1 }, "events on two partitions of calls", 0, 0},
		{"stale latest", func(o *Output) { o.Latest = o.Latest[:2] }, "calls.latest/0@1: call 2 latest status 1, truth says 0", 4, 0},
		{"latest missing a call", func(o *Output) { o.Latest = slices.Delete(o.Latest, 3, 4) }, "call 3: not in the current-state topic", 1, 0},
		{"latest not an event", func(o *Output) { o.Latest = append(o.Latest, ev("calls.latest", 6, 5, 1, nil)) },
			"call 5 event", 1, 0},
		{"latest wrong key", func(o *Output) { o.Latest[5].Key = "55" }, `key "55", want the call id 5`, 0, 0},
		{"undecodable value", func(o *Output) {
			o.Bad = append(o.Bad, BadRecord{Meta{Topic: "calls", Offset: 9}, errors.New("bad magic")})
		}, "calls/0@9: value does not decode: bad magic", 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			truth, out, dlq := fixture()
			tc.mutate(out)
			r := Compare(truth, out, dlq)
			if tc.want == "" {
				if !r.OK() {
					t.Fatalf("Compare of a correct output: %s", r)
				}
			} else if r.OK() || !slices.ContainsFunc(r.Problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Errorf("Compare: %s\nwant a problem containing %q", r, tc.want)
			}
			if r.Lost != tc.lost || r.Duplicated != tc.dups {
				t.Errorf("lost %d, duplicated %d; want %d and %d\n%s", r.Lost, r.Duplicated, tc.lost, tc.dups, r)
			}
			if r.Calls != 5 || r.Events != len(out.Events) {
				t.Errorf("counted %d calls and %d events, want 5 and %d", r.Calls, r.Events, len(out.Events))
			}
		})
	}
}

func TestCompareCapsProblems(t *testing.T) {
	var truth []simulator.Record
	for id := range int64(120) {
		truth = append(truth, simulator.Record{ID: id + 1, Status: 2})
	}
	r := Compare(truth, &Output{}, nil)
	if r.OK() || r.Lost != 120 {
		t.Fatalf("Compare of an empty output: lost %d, ok %v; want 120 lost", r.Lost, r.OK())
	}
	if len(r.Problems) != maxProblems+1 || r.Problems[maxProblems] != "... and 70 more problems" {
		t.Errorf("got %d problems ending %q, want %d and a count of the rest", len(r.Problems), r.Problems[len(r.Problems)-1], maxProblems+1)
	}
	if !strings.HasPrefix(r.String(), "120 calls, 0 events, 120 lost, 0 duplicated, 51 problems\n  call 1 (status 2): no event") {
		t.Errorf("String() = %.120q", r.String())
	}
}

// Source keeps the events, current-state records and dead letters one
// source wrote, so that Compare checks each source against its own truth,
// its current-state topic included.
func TestOutputSource(t *testing.T) {
	truth, out, dlq := fixture()
	for _, e := range append(append([]EventRecord{}, out.Events...), out.Latest...) {
		e.Event.Source.Name = "a"
	}
	out.DeadLetters[0].DeadLetter.Source.Name = "a"
	other := ev("calls", 9, 77, 2, nil)
	other.Event.Source.Name = "b"
	out.Events = append(out.Events, other)
	a := out.Source("a")
	if r := Compare(truth, a, dlq); !r.OK() || len(a.Latest) != len(out.Latest) || len(a.DeadLetters) != 1 {
		t.Errorf("source a: %s; %d latest, %d dead letters", r, len(a.Latest), len(a.DeadLetters))
	}
	a.Latest = a.Latest[:2]
	if r := Compare(truth, a, dlq); r.OK() {
		t.Error("a stale current-state topic of source a passed")
	}
	if b := out.Source("b"); len(b.Events) != 1 || len(b.Latest) != 0 || len(b.DeadLetters) != 0 {
		t.Errorf("source b: %+v", b)
	}
}

// upd is an UPDATED event of call id in status s, its transcript one
// sentence of text.
func upd(topic string, offset, id int64, s int32, text string) EventRecord {
	er := ev(topic, offset, id, s, st(s))
	er.Event.Kind = event.Updated
	er.Event.EventID = event.UpdateID(id, s, text, 1)
	er.Event.Call.Content = &event.Transcript{Sentences: []event.Sentence{{Text: text}}}
	return er
}

// TestCompareUpdates checks the comparison of corrected calls: the UPDATED
// events follow the event of their status, and the current-state topic
// holds the truth's transcript.
func TestCompareUpdates(t *testing.T) {
	fixture := func() ([]simulator.Record, *Output) {
		truth := []simulator.Record{{ID: 3, Status: 2, Content: `{"Sentences":[{"Text":"corrected twice","BeginTime":0}]}`}}
		created := ev("calls", 0, 3, 2, nil)
		created.Event.Call.Content = &event.Transcript{Sentences: []event.Sentence{{Text: "first"}}}
		out := &Output{
			Topics: DefaultTopics(),
			Events: []EventRecord{created, upd("calls", 1, 3, 2, "corrected"), upd("calls", 2, 3, 2, "corrected twice")},
		}
		for _, e := range out.Events {
			e.Topic = "calls.latest"
			out.Latest = append(out.Latest, e)
		}
		return truth, out
	}
	tests := []struct {
		name       string
		mutate     func(o *Output)
		want       string
		lost, dups int
	}{
		{"corrected call", func(*Output) {}, "", 0, 0},
		{"latest keeps the old text", func(o *Output) { o.Latest = o.Latest[:2] }, "latest transcript is not the truth's", 1, 0},
		{"last correction lost", func(o *Output) { o.Events, o.Latest = o.Events[:2], o.Latest[:2] }, "latest transcript is not the truth's", 1, 0},
		{"UPDATED twice", func(o *Output) { o.Events = append(o.Events, upd("calls", 3, 3, 2, "corrected twice")) }, "again, first at", 0, 1},
		{"UPDATED with another previous status", func(o *Output) { o.Events[1].Event.PreviousStatus = st(1) },
			"UPDATED with status 2 and previous status 1", 0, 0},
		{"UPDATED before its status", func(o *Output) { o.Events[1].Offset = -1 }, "UPDATED before or beside", 0, 0},
		{"UPDATED without its status", func(o *Output) { o.Events = o.Events[1:] }, "which has no event", 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			truth, out := fixture()
			tc.mutate(out)
			r := Compare(truth, out, nil)
			if tc.want == "" {
				if !r.OK() {
					t.Fatalf("Compare of a correct output: %s", r)
				}
			} else if r.OK() || !slices.ContainsFunc(r.Problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Errorf("Compare: %s\nwant a problem containing %q", r, tc.want)
			}
			if r.Lost < tc.lost || r.Duplicated != tc.dups {
				t.Errorf("lost %d, duplicated %d; want at least %d and %d\n%s", r.Lost, r.Duplicated, tc.lost, tc.dups, r)
			}
		})
	}
}
