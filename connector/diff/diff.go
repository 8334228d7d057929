// Package diff is the pipeline step between a window's records and its
// transaction: it compares each record with the dedup state and says what
// the window calls for, the events, dead letters and state changes. It
// logs nothing and counts nothing; the connector does, with what it
// returns.
package diff

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/callstream/callstream/connector/calllist"
	"github.com/callstream/callstream/connector/event"
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

// Config is what the diff needs of a source.
type Config struct {
	// Topics are the output topics the records go to.
	Topics sink.Topics
	// NoUpdates turns UPDATED events off (see connector.SourceConfig).
	NoUpdates bool
	// Ignore leaves fields out of the calls' hashes.
	Ignore event.Ignore
	// Limits are the output topics' limits: an event larger than its
	// topic takes is a dead letter.
	Limits sink.Limits
	// Encoder encodes events and dead letters.
	Encoder *event.Encoder
}

// Output is what a window's records call for: the records to produce and,
// for each event and dead letter, what it was. The state changes are in
// the state batch given to Window.
type Output struct {
	Records []*kgo.Record
	Events  []Committed // events and dead letters, in produce order
	Read    int
	Skipped int
	// Aged is set when calls created before the batch's keepAfter were
	// dropped or not kept: the state's watermark rises with the batch.
	Aged bool
	// Unknown names the keys the decoder did not know, once per record.
	Unknown []string
	Err     error // set when the batch must not commit
}

// differ is one Window call: its settings, the state batch it changes and
// the output it adds to.
type differ struct {
	cfg *Config
	st  *state.Batch
	b   *Output
	// values is the block that the window's event values are encoded
	// into, one after the other (see encode), with the records' keys and
	// header values.
	values []byte
	// The blocks the events' records and headers are carved from.
	recs    []kgo.Record
	headers []kgo.RecordHeader
	// source is the value of the events' HeaderSource.
	source []byte
	// ev is the event being encoded, kept here so that taking its address
	// for the encoder costs no allocation per record.
	ev event.Event
}

// Sizes of the blocks that a window's records are carved from (see carve
// and room): the first takes the Min, each next one twice the last, up to
// the Max; in elements for the records and headers, in bytes for the
// values.
const (
	blockMin       = 16
	blockMax       = 1024
	valuesBlockMin = 8 << 10
	valuesBlockMax = 256 << 10
)

// carve returns n zeroed elements from the end of *block, replacing it
// with a new block, twice as large as the last, when it has less room. The
// elements handed out are never handed out again.
func carve[T any](block *[]T, n int) []T {
	b := *block
	if cap(b)-len(b) < n {
		b = make([]T, 0, max(min(max(2*cap(b), blockMin), blockMax), n))
	}
	*block = b[:len(b)+n]
	return b[len(b) : len(b)+n : len(b)+n]
}

// room starts a new values block when the current one has less than n
// bytes left. A block is never written again where it handed out bytes,
// so what it handed out stays as it is for as long as the records hold
// it.
func (c *differ) room(n int) {
	if cap(c.values)-len(c.values) < n {
		size := min(max(2*cap(c.values), valuesBlockMin), valuesBlockMax)
		c.values = make([]byte, 0, max(size, n))
	}
}

// bytes returns s appended to the values block.
func (c *differ) bytes(s string) []byte {
	c.room(len(s))
	n := len(c.values)
	c.values = append(c.values, s...)
	return c.values[n:len(c.values):len(c.values)]
}

// decimal returns v in decimal ASCII appended to the values block: a call
// id as the record key of the call, or a status.
func (c *differ) decimal(v int64) []byte {
	c.room(20)
	n := len(c.values)
	c.values = strconv.AppendInt(c.values, v, 10)
	return c.values[n:len(c.values):len(c.values)]
}

// encode encodes e into the free end of the values block, where the
// window's values follow one another, so that a value costs no allocation
// of its own. hint is a size the value is unlikely to pass (the record's
// JSON, which the Avro datum is about half of, and some room for the
// event's source and id): a block with less room left is replaced by a new
// one. A value that outgrows the room anyway gets an allocation of its own
// and leaves the block as it was.
func (c *differ) encode(e *event.Event, hint int) ([]byte, error) {
	c.room(hint)
	free := c.values[len(c.values):]
	value, err := c.cfg.Encoder.AppendEvent(free, e)
	if err != nil {
		return nil, err
	}
	if cap(value) == cap(free) {
		// Encoded in place: the block's free end starts after it.
		c.values = c.values[:len(c.values)+len(value)]
	}
	return value[:len(value):len(value)], nil
}

// Window compares each record of a window with the dedup state st and
// adds to out the events and dead letters, and to st the state changes,
// it calls for:
//
//   - bytes unchanged since last seen: nothing, not even decoding;
//   - a call never emitted: CREATED;
//   - a status different from the last emitted: STATUS_CHANGED;
//   - the same status, but a decoded call different from the last
//     emitted (not only in key order, whitespace or ignored fields):
//     UPDATED, unless SourceConfig.NoUpdates;
//   - a record that cannot be read, or whose event its topic would
//     refuse as too large: a dead letter, once per distinct bytes.
//
// Calls created before keepAfter (Unix seconds) are past the deepest
// re-scan horizon: their events go out, but no state is kept for them.
//
// src is the events' source, the window's read.
func Window(cfg *Config, st *state.Batch, src event.Source, raws []calllist.Raw, keepAfter int64, out *Output) {
	c, b := &differ{cfg: cfg, st: st, b: out, source: []byte(src.Name)}, out
	for _, raw := range raws {
		b.Read++
		if raw.Err != nil {
			// Without an id the record is kept under its hash: a negative
			// id, which the vendor never uses.
			pseudo := -int64(raw.Hash>>1) - 1
			if e, ok := c.st.Get(pseudo); ok && e.RawHash == raw.Hash {
				b.Skipped++
				continue
			}
			c.deadLetter(b, src, nil, raw.Err, raw.JSON)
			c.st.Put(pseudo, state.Entry{RawHash: raw.Hash, Created: src.WindowEnd.Unix(), Status: -1, Flags: state.DeadLettered})
			continue
		}
		prev, seen := c.st.Get(raw.ID)
		if seen && prev.RawHash == raw.Hash {
			b.Skipped++
			continue
		}
		c.record(b, src, raw, prev, seen, keepAfter)
	}
}

func (c *differ) record(b *Output, src event.Source, raw calllist.Raw, prev state.Entry, seen bool, keepAfter int64) {
	id := raw.ID
	next := state.Entry{RawHash: raw.Hash, Created: src.WindowEnd.Unix(), Status: prev.Status,
		Flags: prev.Flags &^ state.DeadLettered, ContentHash: prev.ContentHash}
	put := func() {
		if next.Created >= keepAfter || seen {
			c.st.Put(id, next)
			return
		}
		b.Aged = true
	}
	rec, err := calllist.DecodeCall(raw.JSON)
	if len(rec.Unknown) > 0 {
		b.Unknown = append(b.Unknown, rec.Unknown...)
	}
	if err != nil {
		if rec.Call != nil && !prev.Has(state.Emitted) {
			next.Status = rec.Call.Status
		}
		c.deadLetter(b, src, new(id), err, raw.JSON)
		next.Flags |= state.DeadLettered
		put()
		return
	}
	call := rec.Call
	next.Created = call.GmtCreateTime.Unix()
	hash := call.Hash(c.cfg.Ignore)
	// What the entry says if nothing is emitted: the event before stays
	// the last emitted, so its status and content hash stay too.
	kept := next
	next.ContentHash, next.Flags = hash, next.Flags|state.ContentKnown
	ev := &c.ev
	*ev = event.Event{
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
	value, err := c.encode(ev, len(raw.JSON)+512)
	if err != nil {
		next = kept
		if !prev.Has(state.Emitted) {
			next.Status = call.Status
		}
		c.deadLetter(b, src, new(id), &calllist.DecodeError{Reason: ReasonEncode, Err: err}, raw.JSON)
		next.Flags |= state.DeadLettered
		put()
		return
	}
	// The records of one event share its key, value and headers.
	headers := carve(&c.headers, 3)
	headers[0] = kgo.RecordHeader{Key: HeaderKind, Value: c.bytes(ev.Kind.String())}
	headers[1] = kgo.RecordHeader{Key: HeaderStatus, Value: c.decimal(int64(call.Status))}
	headers[2] = kgo.RecordHeader{Key: HeaderSource, Value: c.source}
	key := c.decimal(id)
	latest := c.cfg.Topics.Latest
	recs := carve(&c.recs, 1+min(len(latest), 1))
	recs[0] = kgo.Record{Topic: topic, Key: key, Value: value, Headers: headers}
	if latest != "" {
		recs[1] = kgo.Record{Topic: latest, Key: key, Value: value, Headers: headers}
	}
	for i := range recs {
		r := &recs[i]
		if size, limit := sink.RecordSize(r), c.cfg.Limits.Of(r.Topic); size > limit {
			// Produced, it would fail the transaction and stop the line
			// behind it: the call is a dead letter instead, and these
			// bytes are not tried again.
			next = kept
			if !prev.Has(state.Emitted) {
				next.Status = call.Status
			}
			c.deadLetter(b, src, new(id), &TooLargeError{CallID: id, Kind: ev.Kind, Topic: r.Topic, Size: size, Limit: limit}, raw.JSON)
			next.Flags |= state.DeadLettered
			put()
			return
		}
	}
	for i := range recs {
		b.Records = append(b.Records, &recs[i])
	}
	b.Events = append(b.Events, Committed{Topic: topic, Kind: ev.Kind.String(), CallID: id, Call: call,
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
func (c *differ) deadLetter(b *Output, src event.Source, id *int64, cause error, raw []byte) {
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
		key = c.decimal(*id)
	}
	headers := []kgo.RecordHeader{
		{Key: HeaderKind, Value: []byte(KindDeadLetter)},
		{Key: HeaderReason, Value: []byte(reason)},
		{Key: HeaderSource, Value: []byte(src.Name)},
	}
	r := &kgo.Record{Topic: c.cfg.Topics.DLQ, Key: key, Headers: headers}
	if err := c.encodeDeadLetter(r, &dl); err != nil {
		b.Err = errors.Join(b.Err, err)
		return
	}
	b.Records = append(b.Records, r)
	dead := Committed{Topic: c.cfg.Topics.DLQ, Kind: KindDeadLetter, Reason: reason, Tier: src.Tier}
	if id != nil {
		dead.CallID = *id
	}
	b.Events = append(b.Events, dead)
}

// encodeDeadLetter sets r's value to dl encoded. When that is more than the
// dead-letter topic takes, dl's raw JSON is cut, at a character boundary,
// to what fits, and its error says so.
func (c *differ) encodeDeadLetter(r *kgo.Record, dl *event.DeadLetter) error {
	value, err := c.cfg.Encoder.AppendDeadLetter(nil, dl)
	if err != nil {
		return fmt.Errorf("encoding a dead letter (%s): %w", dl.Reason, err)
	}
	r.Value = value
	limit := c.cfg.Limits.Of(r.Topic)
	if sink.RecordSize(r) <= limit {
		return nil
	}
	whole := len(dl.Raw)
	cut := *dl
	cut.Raw = ""
	cut.Error = fmt.Sprintf("%s; raw cut to its first %d of %d bytes to fit the dead-letter topic's %d", dl.Error, whole, whole, limit)
	if value, err = c.cfg.Encoder.AppendDeadLetter(nil, &cut); err != nil {
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
	if value, err = c.cfg.Encoder.AppendDeadLetter(nil, &cut); err != nil {
		return fmt.Errorf("encoding a dead letter (%s): %w", dl.Reason, err)
	}
	r.Value = value
	if size := sink.RecordSize(r); size > limit {
		return fmt.Errorf("encoding a dead letter (%s): %d bytes with its raw JSON cut, more than the dead-letter topic's %d", dl.Reason, size, limit)
	}
	return nil
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
