package connector

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/callstream/callstream/connector/calllist"
	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/connector/schedule"
	"github.com/callstream/callstream/connector/state"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Committed describes one record of a batch after its transaction
// committed: for metrics, and for callers that show progress (the demo
// prints them).
type Committed struct {
	Topic  string
	Kind   string // CREATED, STATUS_CHANGED or DEAD_LETTER
	CallID int64  // 0 when a dead record had no readable id
	// Call is the call after the change; nil for a dead letter.
	Call *event.Call
	// PreviousStatus is the status before a STATUS_CHANGED; nil otherwise.
	PreviousStatus *int32
	// Reason is the dead letter's reason.
	Reason string
	// Tier is the read that found it: "live", "backfill" or the name of a
	// re-scan tier.
	Tier string
}

// batch is one transaction in the making: the output records and the state
// changes that account for them.
type batch struct {
	state      *state.Batch
	tier       string // the task whose window it holds; empty for checkpoints alone
	records    []*kgo.Record
	events     []Committed // events and dead letters, in produce order
	read       int
	skipped    int
	tombstones int
	// aged is set when calls created before the batch's keepAfter were
	// dropped or not kept: the state's watermark rises with the batch.
	aged bool
	// unknown names the keys the decoder did not know, once per record.
	unknown []string
	err     error // set when the batch must not commit
}

// diff compares each record of a window with the dedup state and adds to b
// the events, dead letters and state changes it calls for:
//
//   - bytes unchanged since last seen: nothing, not even decoding;
//   - a call never emitted: CREATED;
//   - a status different from the last emitted: STATUS_CHANGED;
//   - a record that cannot be read: a dead letter, once per distinct
//     bytes.
//
// Calls created before keepAfter (Unix seconds) are past the deepest
// re-scan horizon: their events go out, but no state is kept for them.
func (c *Connector) diff(b *batch, t schedule.Task, raws []calllist.Raw, keepAfter int64) {
	src := c.eventSource(t)
	for _, raw := range raws {
		b.read++
		if raw.Err != nil {
			// Without an id the record is kept under its hash: a negative
			// id, which the vendor never uses.
			pseudo := -int64(raw.Hash>>1) - 1
			if e, ok := b.state.Get(pseudo); ok && e.RawHash == raw.Hash {
				b.skipped++
				continue
			}
			c.deadLetter(b, src, nil, raw.Err, raw.JSON)
			b.state.Put(pseudo, state.Entry{RawHash: raw.Hash, Created: t.Window.End.Unix(), Status: -1, Flags: state.DeadLettered})
			continue
		}
		prev, seen := b.state.Get(raw.ID)
		if seen && prev.RawHash == raw.Hash {
			b.skipped++
			continue
		}
		c.diffRecord(b, src, raw, prev, seen, keepAfter)
	}
}

func (c *Connector) diffRecord(b *batch, src event.Source, raw calllist.Raw, prev state.Entry, seen bool, keepAfter int64) {
	id := raw.ID
	next := state.Entry{RawHash: raw.Hash, Created: src.WindowEnd.Unix(), Status: prev.Status, Flags: prev.Flags &^ state.DeadLettered}
	put := func() {
		if next.Created >= keepAfter || seen {
			b.state.Put(id, next)
			return
		}
		b.aged = true
	}
	rec, err := calllist.DecodeCall(raw.JSON)
	if len(rec.Unknown) > 0 {
		b.unknown = append(b.unknown, rec.Unknown...)
	}
	if err != nil {
		if rec.Call != nil && !prev.Has(state.Emitted) {
			next.Status = rec.Call.Status
		}
		c.deadLetter(b, src, &id, err, raw.JSON)
		next.Flags |= state.DeadLettered
		put()
		return
	}
	call := rec.Call
	next.Created = call.GmtCreateTime.Unix()
	if prev.Has(state.Emitted) && prev.Status == call.Status {
		// Same status, other bytes: remember them so the next re-scan
		// skips the record, emit nothing.
		put()
		return
	}
	ev := event.Event{
		EventID: event.ID(id, call.Status, rec.Content),
		Kind:    event.Created,
		Call:    call,
		Source:  src,
	}
	if prev.Has(state.Emitted) {
		ps := prev.Status
		ev.Kind, ev.PreviousStatus = event.StatusChanged, &ps
	}
	topic := c.cfg.Topics.Calls
	if call.Status == 0 {
		topic = c.cfg.Topics.Failed
	}
	value, err := c.enc.AppendEvent(nil, &ev)
	if err != nil {
		c.deadLetter(b, src, &id, &calllist.DecodeError{Reason: ReasonEncode, Err: err}, raw.JSON)
		next.Flags |= state.DeadLettered
		put()
		return
	}
	headers := []kgo.RecordHeader{
		{Key: HeaderKind, Value: []byte(ev.Kind.String())},
		{Key: HeaderStatus, Value: strconv.AppendInt(nil, int64(call.Status), 10)},
		{Key: HeaderSource, Value: []byte(src.Name)},
	}
	key := callKey(id)
	b.records = append(b.records, &kgo.Record{Topic: topic, Key: key, Value: value, Headers: headers})
	if latest := c.cfg.Topics.Latest; latest != "" {
		b.records = append(b.records, &kgo.Record{Topic: latest, Key: key, Value: value, Headers: headers})
	}
	b.events = append(b.events, Committed{Topic: topic, Kind: ev.Kind.String(), CallID: id, Call: call,
		PreviousStatus: ev.PreviousStatus, Tier: src.Tier})
	next.Status, next.Flags = call.Status, next.Flags|state.Emitted
	put()
}

// ReasonEncode is the dead-letter reason of a call that could be read but
// not Avro encoded.
const ReasonEncode = "encode"

// Reasons returns every dead-letter reason: the decoder's and ReasonEncode.
func Reasons() []string { return append(calllist.Reasons(), ReasonEncode) }

// deadLetter adds a record that cannot be read or encoded to the
// dead-letter topic, with its raw JSON and the reason. Bytes that are not
// UTF-8 are replaced, since Avro strings must be UTF-8; a dead letter that
// still cannot be encoded is a bug in our schema, and the batch fails rather
// than lose the record.
func (c *Connector) deadLetter(b *batch, src event.Source, id *int64, cause error, raw []byte) {
	reason := calllist.ReasonRecordJSON
	if de, ok := errors.AsType[*calllist.DecodeError](cause); ok {
		reason = de.Reason
	}
	dl := event.DeadLetter{
		CallID: id, Reason: reason, Source: src,
		Error: strings.ToValidUTF8(cause.Error(), "\uFFFD"),
		Raw:   strings.ToValidUTF8(string(raw), "\uFFFD"),
	}
	value, err := c.enc.AppendDeadLetter(nil, &dl)
	if err != nil {
		b.err = errors.Join(b.err, fmt.Errorf("encoding a dead letter (%s): %w", reason, err))
		return
	}
	var key []byte
	if id != nil {
		key = callKey(*id)
	}
	headers := []kgo.RecordHeader{
		{Key: HeaderKind, Value: []byte(KindDeadLetter)},
		{Key: HeaderReason, Value: []byte(reason)},
		{Key: HeaderSource, Value: []byte(src.Name)},
	}
	b.records = append(b.records, &kgo.Record{Topic: c.cfg.Topics.DLQ, Key: key, Value: value, Headers: headers})
	dead := Committed{Topic: c.cfg.Topics.DLQ, Kind: KindDeadLetter, Reason: reason, Tier: src.Tier}
	if id != nil {
		dead.CallID = *id
	}
	b.events = append(b.events, dead)
}

func (c *Connector) eventSource(t schedule.Task) event.Source {
	return event.Source{
		App: c.cfg.AppID, Type: c.cfg.Type, Tier: t.Name,
		WindowStart: t.Window.Start, WindowEnd: t.Window.End,
		ObservedAt: c.now(), ConnectorVersion: c.cfg.Version, Name: c.cfg.SourceName,
	}
}

// KindDeadLetter is the Kind of a Committed dead letter.
const KindDeadLetter = "DEAD_LETTER"

// Record headers, for routing without decoding the value
// (docs/consumers.md).
const (
	HeaderKind   = "callstream-kind"   // CREATED, STATUS_CHANGED or DEAD_LETTER
	HeaderStatus = "callstream-status" // the call's status in decimal; events only
	HeaderSource = "callstream-source" // the configured source's name
	HeaderReason = "callstream-reason" // the dead letter's reason; dead letters only
)

// callKey is the record key of a call: its id in decimal ASCII.
func callKey(id int64) []byte { return strconv.AppendInt(nil, id, 10) }
