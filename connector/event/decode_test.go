package event

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/callstream/callstream/schemas"
)

func TestDecodeErrors(t *testing.T) {
	e := sampleEvents(t)[0]
	soe, err := NewEncoder().AppendEvent(nil, e)
	if err != nil {
		t.Fatal(err)
	}
	dl, err := NewEncoder().AppendDeadLetter(nil, &DeadLetter{Reason: "encode"})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := NewRegistryEncoder(7, 8).AppendEvent(nil, e)
	if err != nil {
		t.Fatal(err)
	}
	unknownFP := bytes.Clone(soe)
	unknownFP[5] ^= 1
	otherID := bytes.Clone(reg)
	otherID[4] = 9
	tests := []struct {
		name   string
		dec    *Decoder
		value  []byte
		target string // event or dead letter
		want   error  // nil: any error
	}{
		{"empty", NewDecoder(nil), nil, "event", ErrUnknownFraming},
		{"plain JSON", NewDecoder(nil), []byte(`{"id":1}`), "event", ErrUnknownFraming},
		{"unknown fingerprint", NewDecoder(nil), unknownFP, "event", nil},
		{"truncated datum", NewDecoder(nil), soe[:30], "event", nil},
		{"dead letter as event", NewDecoder(nil), dl, "event", ErrWrongSchema},
		{"event as dead letter", NewDecoder(nil), soe, "dead letter", ErrWrongSchema},
		{"registry without lookup", NewDecoder(nil), reg, "event", ErrNoRegistry},
		{"id the registry lacks", NewDecoder(registryLookup), otherID, "event", nil},
		{"registry schema of another name", NewDecoder(func(int) (string, error) { return `"string"`, nil }), reg, "event", ErrWrongSchema},
		{"registry schema not parseable", NewDecoder(func(int) (string, error) { return `{`, nil }), reg, "event", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.target == "event" {
				_, err = tc.dec.DecodeEvent(tc.value)
			} else {
				_, err = tc.dec.DecodeDeadLetter(tc.value)
			}
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Errorf("decoding % x: %v, want %v", tc.value, err, tc.want)
			}
		})
	}
}

// TestRegistryEvolution decodes a value written with a later version of
// the schema, which adds a field, through the registry path.
func TestRegistryEvolution(t *testing.T) {
	newer := strings.Replace(schemas.CallEvent().Text(), `"fields": [`,
		`"fields": [{"name": "traceId", "type": "string", "default": ""},`, 1)
	ws, err := schemas.Parse(newer)
	if err != nil {
		t.Fatal(err)
	}
	e := sampleEvents(t)[4] // a transcript, which needs no tagged content
	datum, err := ws.Append(nil, &struct {
		Event
		TraceID string `avro:"traceId"`
	}{*e, "t-1"})
	if err != nil {
		t.Fatal(err)
	}
	value := append([]byte{0, 0, 0, 0, 42}, datum...)
	calls := 0
	dec := NewDecoder(func(id int) (string, error) {
		calls++
		if id != 42 {
			return "", fmt.Errorf("no schema %d", id)
		}
		return newer, nil
	})
	for range 2 {
		got, err := dec.DecodeEvent(value)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Errorf("decoded:\n got %s\nwant %s", jsonOf(t, got), jsonOf(t, e))
		}
	}
	if calls != 1 {
		t.Errorf("lookup called %d times, want once", calls)
	}
}

func TestDecodeSurvivesConcurrentUse(t *testing.T) {
	value, err := NewRegistryEncoder(7, 8).AppendEvent(nil, sampleEvents(t)[0])
	if err != nil {
		t.Fatal(err)
	}
	dec := NewDecoder(registryLookup)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			_, err := dec.DecodeEvent(value)
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
