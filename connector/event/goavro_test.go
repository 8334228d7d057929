package event

import (
	"bytes"
	"encoding/binary"
	"os"
	"reflect"
	"testing"

	"github.com/callstream/callstream/internal/avrotest"
	"github.com/linkedin/goavro/v2"
)

// These tests check our bytes with an independent Avro implementation,
// linkedin/goavro, that knows only the .avsc files on disk.

// goavroCodecs returns two codecs of an .avsc file: one of the file as it
// is, to decode with, and one of the file without logical types, whose
// fingerprint is the specification's. goavro keeps {"type":"long"} in the
// canonical form of a long with a logicalType where the specification's
// [PRIMITIVES] rule and Java write "long"
// (github.com/linkedin/goavro/issues/174).
func goavroCodecs(t *testing.T, file string) (decode *goavro.Codec, fingerprint [8]byte) {
	t.Helper()
	text, err := os.ReadFile("../../schemas/" + file)
	if err != nil {
		t.Fatal(err)
	}
	decode, err = goavro.NewCodec(string(text))
	if err != nil {
		t.Fatalf("goavro parsing %s: %v", file, err)
	}
	plain, err := goavro.NewCodec(avrotest.StripLogicalTypes(t, text))
	if err != nil {
		t.Fatalf("goavro parsing %s without logical types: %v", file, err)
	}
	binary.LittleEndian.PutUint64(fingerprint[:], plain.Rabin)
	return decode, fingerprint
}

func TestEventWithGoavro(t *testing.T) {
	codec, fp := goavroCodecs(t, "call_event.avsc")
	for _, e := range sampleEvents(t) {
		value, err := NewEncoder().AppendEvent(nil, e)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(value[:2], []byte{0xC3, 0x01}) || !bytes.Equal(value[2:10], fp[:]) {
			t.Fatalf("header % x, want C3 01 then goavro's fingerprint % x", value[:10], fp)
		}
		checkWithGoavro(t, codec, value[10:], eventNative(e))
	}
}

func TestDeadLetterWithGoavro(t *testing.T) {
	codec, fp := goavroCodecs(t, "dead_letter.avsc")
	id := int64(42)
	for _, d := range []*DeadLetter{
		{CallID: &id, Reason: "message_json", Error: "e", Raw: `{"id":42}`, Source: testSource},
		{Reason: "record_json", Error: "no id", Raw: "{", Source: testSource},
	} {
		value, err := NewEncoder().AppendDeadLetter(nil, d)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(value[2:10], fp[:]) {
			t.Fatalf("fingerprint % x, want goavro's % x", value[2:10], fp)
		}
		var callID any
		if d.CallID != nil {
			callID = map[string]any{"long": *d.CallID}
		}
		checkWithGoavro(t, codec, value[10:], map[string]any{
			"callId": callID, "reason": d.Reason, "error": d.Error, "raw": d.Raw, "source": sourceNative(d.Source),
		})
	}
}

// checkWithGoavro decodes datum with goavro, compares it with want, and
// checks that goavro encodes want to the same bytes.
func checkWithGoavro(t *testing.T, codec *goavro.Codec, datum []byte, want map[string]any) {
	t.Helper()
	got, rest, err := codec.NativeFromBinary(datum)
	if err != nil {
		t.Fatalf("goavro decoding: %v", err)
	}
	if len(rest) != 0 {
		t.Errorf("goavro left %d bytes", len(rest))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("goavro decoded:\n got %#v\nwant %#v", got, want)
	}
	again, err := codec.BinaryFromNative(nil, want)
	if err != nil {
		t.Fatalf("goavro encoding: %v", err)
	}
	if !bytes.Equal(again, datum) {
		t.Errorf("goavro encodes the same value as\n% x\nwe encode\n% x", again, datum)
	}
}

// eventNative is e as goavro represents it: records and maps as
// map[string]any, arrays as []any, a non-null union value as a single-key
// map naming its branch.
func eventNative(e *Event) map[string]any {
	var prev any
	if e.PreviousStatus != nil {
		prev = map[string]any{"int": *e.PreviousStatus}
	}
	c := e.Call
	deps := []any{}
	for _, d := range c.Departments {
		path := []any{}
		for _, id := range d.Path {
			path = append(path, id)
		}
		deps = append(deps, map[string]any{"id": d.ID, "level": d.Level, "path": path, "name": d.Name, "extra": extraNative(d.Extra)})
	}
	var msg, content any
	if c.Message != nil {
		msg = map[string]any{"callstream.TaskStatus": taskStatusNative(c.Message)}
	}
	switch v := c.Content.(type) {
	case *TaskStatus:
		content = map[string]any{"callstream.TaskStatus": taskStatusNative(v)}
	case *Transcript:
		sentences := []any{}
		for _, s := range v.Sentences {
			sentences = append(sentences, map[string]any{
				"beginTimeMs": s.BeginTimeMs, "endTimeMs": s.EndTimeMs, "text": s.Text, "channelId": s.ChannelID,
				"extra": extraNative(s.Extra)})
		}
		content = map[string]any{"callstream.Transcript": map[string]any{"sentences": sentences, "extra": extraNative(v.Extra)}}
	}
	extra := extraNative(c.Extra)
	return map[string]any{
		"eventId": e.EventID, "kind": string(e.Kind), "previousStatus": prev,
		"call": map[string]any{
			"id": c.ID, "taskId": c.TaskID, "corpId": c.CorpID, "type": c.Type, "msgId": c.MsgID,
			"preCost": c.PreCost, "cost": c.Cost, "status": c.Status, "statusStr": c.StatusStr,
			"method": c.Method, "salesId": c.SalesID, "salesName": c.SalesName,
			"gmtCreateTime": c.GmtCreateTime, "msgTime": c.MsgTime, "departments": deps,
			"sendName": c.SendName, "receiveName": c.ReceiveName, "callType": c.CallType, "url": c.URL,
			"message": msg, "content": content, "extra": extra,
		},
		"source": sourceNative(e.Source),
	}
}

func taskStatusNative(s *TaskStatus) map[string]any {
	return map[string]any{"taskId": s.TaskID, "statusText": s.StatusText,
		"requestTime": s.RequestTime, "solveTime": s.SolveTime, "statusCode": s.StatusCode,
		"extra": extraNative(s.Extra)}
}

func extraNative(m map[string]string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func sourceNative(s Source) map[string]any {
	return map[string]any{"app": s.App, "type": s.Type, "tier": s.Tier,
		"windowStart": s.WindowStart, "windowEnd": s.WindowEnd, "observedAt": s.ObservedAt,
		"connectorVersion": s.ConnectorVersion, "name": s.Name}
}
