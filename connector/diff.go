package connector

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/callstream/callstream/connector/calllist"
	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/connector/schedule"
	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/connector/state"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Committed describes one record of a batch after its transaction
// committed: for metrics, and for callers that show progress (the demo
// prints them).
type Committed struct {
	Topic  string
	Kind   string // CREATED, STATUS_CHANGED, UPDATED or DEAD_LETTER
	CallID int64  // 0 when a dead record had no readable id
	// Call is the call after the change; nil for a dead letter.
	Call *event.Call
	// PreviousStatus is the status before a STATUS_CHANGED, the call's
	// unchanged status for an UPDATED; nil otherwise.
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
//   - the same status, but a decoded call different from the last
//     emitted (not only in key order, whitespace or ignored fields):
//     UPDATED, unless Config.NoUpdates;
//   - a record that cannot be read, or whose event its topic would
//     refuse as too large: a dead letter, once per distinct bytes.
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
	next := state.Entry{RawHash: raw.Hash, Created: src.WindowEnd.Unix(), Status: prev.Status,
		Flags: prev.Flags &^ state.DeadLettered, ContentHash: prev.ContentHash}
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
	hash := call.Hash(c.ignore)
	// What the entry says if nothing is emitted: the event before stays
	// the last emitted, so its status and content hash stay too.
	kept := next
	next.ContentHash, next.Flags = hash, next.Flags|state.ContentKnown
	ev := event.Event{
		EventID: event.ID(id, call.Status, rec.Content),
		Kind:    event.Created,
		Call:    call,
		Source:  src,
	}
	switch {
	case !prev.Has(state.Emitted):
	case prev.Status != call.Status:
		ps := prev.Status
		ev.Kind, ev.PreviousStatus = event.StatusChanged, &ps
	case !prev.Has(state.ContentKnown) || prev.ContentHash == hash || c.cfg.NoUpdates:
		// Same status, other bytes: the same call in other JSON (key
		// order, whitespace, an ignored field), a call whose content hash
		// the state does not know yet (an entry of the first state
		// version), or updates are off. Remember the bytes and the call's
		// hash so that the next re-scan skips the record; emit nothing.
		put()
		return
	default:
		ps := call.Status
		ev.Kind, ev.PreviousStatus = event.Updated, &ps
		ev.EventID = event.UpdateID(id, call.Status, rec.Content, hash)
	}
	topic := c.cfg.Topics.Calls
	if call.Status == 0 {
		topic = c.cfg.Topics.Failed
	}
	value, err := c.enc.AppendEvent(nil, &ev)
	if err != nil {
		next = kept
		if !prev.Has(state.Emitted) {
			next.Status = call.Status
		}
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
	recs := []*kgo.Record{{Topic: topic, Key: key, Value: value, Headers: headers}}
	if latest := c.cfg.Topics.Latest; latest != "" {
		recs = append(recs, &kgo.Record{Topic: latest, Key: key, Value: value, Headers: headers})
	}
	for _, r := range recs {
		if size, limit := sink.RecordSize(r), c.limits.Of(r.Topic); size > limit {
			// Produced, it would fail the transaction and stop the line
			// behind it: the call is a dead letter instead, and these
			// bytes are not tried again.
			next = kept
			if !prev.Has(state.Emitted) {
				next.Status = call.Status
			}
			c.deadLetter(b, src, &id, &TooLargeError{CallID: id, Kind: ev.Kind, Topic: r.Topic, Size: size, Limit: limit}, raw.JSON)
			next.Flags |= state.DeadLettered
			put()
			return
		}
	}
	b.records = append(b.records, recs...)
	b.events = append(b.events, Committed{Topic: topic, Kind: ev.Kind.String(), CallID: id, Call: call,
		PreviousStatus: ev.PreviousStatus, Tier: src.Tier})
	next.Status, next.Flags = call.Status, next.Flags|state.Emitted
	put()
}

// TooLargeError is an event that its topic would refuse: its record is
// larger than the topic's limit.
type TooLargeError struct {
	CallID      int64
	Kind        event.Kind
	Topic       string
	Size, Limit int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the %s event of call %d is %d bytes, more than the %d bytes topic %s takes (its max.message.bytes, or the broker's message.max.bytes)",
		e.Kind, e.CallID, e.Size, e.Limit, e.Topic)
}

// Dead-letter reasons beside the decoder's.
const (
	// ReasonEncode is a call that could be read but not Avro encoded.
	ReasonEncode = "encode"
	// ReasonTooLarge is a call whose event is larger than its topic (or
	// the current-state topic) takes.
	ReasonTooLarge = "too_large"
)

// Reasons returns every dead-letter reason: the decoder's, ReasonEncode
// and ReasonTooLarge.
func Reasons() []string { return append(calllist.Reasons(), ReasonEncode, ReasonTooLarge) }

// deadLetter adds a record that cannot be read, encoded or produced to the
// dead-letter topic, with its raw JSON, cut to what fits the topic, and the
// reason. Bytes that are not UTF-8 are replaced, since Avro strings must be
// UTF-8; a dead letter that still cannot be encoded is a bug in our schema,
// and the batch fails rather than lose the record.
func (c *Connector) deadLetter(b *batch, src event.Source, id *int64, cause error, raw []byte) {
	reason := calllist.ReasonRecordJSON
	if de, ok := errors.AsType[*calllist.DecodeError](cause); ok {
		reason = de.Reason
	}
	if _, ok := errors.AsType[*TooLargeError](cause); ok {
		reason = ReasonTooLarge
	}
	dl := event.DeadLetter{
		CallID: id, Reason: reason, Source: src,
		Error: strings.ToValidUTF8(cause.Error(), "\uFFFD"),
		Raw:   strings.ToValidUTF8(string(raw), "\uFFFD"),
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
	r := &kgo.Record{Topic: c.cfg.Topics.DLQ, Key: key, Headers: headers}
	if err := c.encodeDeadLetter(r, &dl); err != nil {
		b.err = errors.Join(b.err, err)
		return
	}
	b.records = append(b.records, r)
	dead := Committed{Topic: c.cfg.Topics.DLQ, Kind: KindDeadLetter, Reason: reason, Tier: src.Tier}
	if id != nil {
		dead.CallID = *id
	}
	b.events = append(b.events, dead)
}

// encodeDeadLetter sets r's value to dl encoded. When that is more than the
// dead-letter topic takes, dl's raw JSON is cut, at a character boundary,
// to what fits, and its error says so.
func (c *Connector) encodeDeadLetter(r *kgo.Record, dl *event.DeadLetter) error {
	value, err := c.enc.AppendDeadLetter(nil, dl)
	if err != nil {
		return fmt.Errorf("encoding a dead letter (%s): %w", dl.Reason, err)
	}
	r.Value = value
	limit := c.limits.Of(r.Topic)
	if sink.RecordSize(r) <= limit {
		return nil
	}
	whole := len(dl.Raw)
	cut := *dl
	cut.Raw = ""
	cut.Error = fmt.Sprintf("%s; raw cut to its first %d of %d bytes to fit the dead-letter topic's %d", dl.Error, whole, whole, limit)
	if value, err = c.enc.AppendDeadLetter(nil, &cut); err != nil {
		return fmt.Errorf("encoding a dead letter (%s): %w", dl.Reason, err)
	}
	r.Value = value
	// What the raw JSON may take: the room left, less the few bytes by
	// which its length and the record's length varints may grow.
	keep := max(0, min(whole, limit-sink.RecordSize(r)-16))
	for keep > 0 && !utf8.RuneStart(dl.Raw[keep]) {
		keep--
	}
	cut.Raw = dl.Raw[:keep]
	cut.Error = fmt.Sprintf("%s; raw cut to its first %d of %d bytes to fit the dead-letter topic's %d", dl.Error, keep, whole, limit)
	if value, err = c.enc.AppendDeadLetter(nil, &cut); err != nil {
		return fmt.Errorf("encoding a dead letter (%s): %w", dl.Reason, err)
	}
	r.Value = value
	if size := sink.RecordSize(r); size > limit {
		return fmt.Errorf("encoding a dead letter (%s): %d bytes with its raw JSON cut, more than the dead-letter topic's %d", dl.Reason, size, limit)
	}
	return nil
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
	HeaderKind   = "callstream-kind"   // CREATED, STATUS_CHANGED, UPDATED or DEAD_LETTER
	HeaderStatus = "callstream-status" // the call's status in decimal; events only
	HeaderSource = "callstream-source" // the configured source's name
	HeaderReason = "callstream-reason" // the dead letter's reason; dead letters only
)

// callKey is the record key of a call: its id in decimal ASCII.
func callKey(id int64) []byte { return strconv.AppendInt(nil, id, 10) }
