package event_test

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/schemas"
)

// nextVersion is schemas/call_event.avsc as docs/schema-evolution.md says
// to evolve it: one optional field with a default, appended.
func nextVersion(t *testing.T) *schemas.Schema {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(schemas.CallEvent().Text()), &m); err != nil {
		t.Fatal(err)
	}
	m["fields"] = append(m["fields"].([]any), map[string]any{
		"name": "region", "type": []any{"null", "string"}, "default": nil,
		"doc": "Added in the next version; absent from data written before it.",
	})
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	s, err := schemas.Parse(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func evolutionEvent() *event.Event {
	prev := int32(1)
	return &event.Event{
		EventID: "0123456789abcdef0123456789abcdef", Kind: event.StatusChanged, PreviousStatus: &prev,
		Call: &event.Call{ID: 661181201146016, Status: 2,
			GmtCreateTime: time.Date(2025, 3, 25, 6, 26, 23, 0, time.UTC),
			Content:       &event.Transcript{Sentences: []event.Sentence{{BeginTimeMs: 0, EndTimeMs: 900, Text: "您好"}}}},
	}
}

// Data written with the current schema reads with the next one (BACKWARD:
// the new field takes its default), and data written with the next one
// reads with the current code (FORWARD: the new field is skipped). The
// registry check agrees both ways.
func TestSchemaEvolution(t *testing.T) {
	cur, next := schemas.CallEvent(), nextVersion(t)
	for _, tc := range []struct{ name, writer, reader string }{
		{"current data, next reader", "current", "next"},
		{"next data, current reader", "next", "current"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, r := cur, next
			if tc.writer == "next" {
				w, r = next, cur
			}
			if err := schemas.CheckCompatibility(w, r); err != nil {
				t.Fatalf("compatibility: %v", err)
			}
		})
	}

	in := evolutionEvent()
	const curID, nextID, deadID = 1, 2, 3
	value, err := event.NewRegistryEncoder(curID, deadID).AppendEvent(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	datum := value[5:]

	// Current data read with the next version: region takes its default.
	rs, err := schemas.Resolve(cur, next)
	if err != nil {
		t.Fatal(err)
	}
	var asNext map[string]any
	if err := rs.Decode(datum, &asNext); err != nil {
		t.Fatal(err)
	}
	if region, ok := asNext["region"]; !ok || region != nil {
		t.Errorf("region = %v (present %v), want the default null", region, ok)
	}
	if asNext["eventId"] != in.EventID {
		t.Errorf("eventId = %v, want %s", asNext["eventId"], in.EventID)
	}

	// Next-version data (region set) read with the current code, through
	// the registry id of the next version.
	asNext["region"] = "cn-east"
	nextDatum, err := next.Append(nil, asNext)
	if err != nil {
		t.Fatal(err)
	}
	framed := append([]byte{0, 0, 0, 0, nextID}, nextDatum...)
	dec := event.NewDecoder(func(id int) (string, error) {
		if id == nextID {
			return next.Text(), nil
		}
		return "", fmt.Errorf("unknown id %d", id)
	})
	got, err := dec.DecodeEvent(framed)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, in) {
		t.Errorf("next-version data read as\n%+v\nwant\n%+v", got, in)
	}
}

// TestReadsFirstVersion reads data written with the first released schema,
// which had no extra maps in Transcript, Sentence, TaskStatus and
// Department, with the
// current code: the maps take their default, empty, and the call is the same.
func TestReadsFirstVersion(t *testing.T) {
	text, err := os.ReadFile("../../schemas/testdata/call_event.v1.avsc")
	if err != nil {
		t.Fatal(err)
	}
	v1, err := schemas.Parse(string(text))
	if err != nil {
		t.Fatal(err)
	}
	in := evolutionEvent()
	in.Call.Message = &event.TaskStatus{TaskID: "t", StatusText: "OK",
		RequestTime: time.UnixMilli(1742884000000).UTC(), SolveTime: time.UnixMilli(1742884001000).UTC(), StatusCode: 1}
	// The v1 datum of the event: the current encoding minus the extra maps,
	// written by the v1 schema from the event's generic form.
	value, err := event.NewRegistryEncoder(1, 2).AppendEvent(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	// (Resolving the current schema against v1 is refused: v1's EventKind
	// has no UPDATED and no default; see schemas.TestReleasedVersions.)
	var generic map[string]any
	if err := schemas.CallEvent().Decode(value[5:], &generic); err != nil {
		t.Fatal(err)
	}
	datum, err := v1.Append(nil, generic)
	if err != nil {
		t.Fatal(err)
	}
	dec := event.NewDecoder(func(id int) (string, error) { return v1.Text(), nil })
	got, err := dec.DecodeEvent(append([]byte{0, 0, 0, 0, 9}, datum...))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, in) {
		t.Errorf("v1 data read as\n%+v\nwant\n%+v", got, in)
	}
}
