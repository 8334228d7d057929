package event

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/callstream/callstream/schemas"
)

// Errors of the Decoder, for errors.Is.
var (
	// ErrUnknownFraming is a value that starts neither with the
	// single-object marker C3 01 nor with the registry magic byte 00.
	ErrUnknownFraming = errors.New("value is neither single-object encoded nor schema-registry framed")
	// ErrNoRegistry is a registry-framed value given to a Decoder made
	// without a lookup function.
	ErrNoRegistry = errors.New("value is schema-registry framed and no registry lookup is configured")
	// ErrWrongSchema is a value of another schema than the one asked for,
	// e.g. a dead letter given to DecodeEvent.
	ErrWrongSchema = errors.New("value is of another schema")
)

// Decoder decodes the values that an Encoder writes, in either framing,
// detected from the first byte. It is safe for concurrent use.
type Decoder struct {
	lookup func(id int) (string, error)

	mu      sync.Mutex
	writers map[int]*writer // registry id → writer schema, resolved
}

// writer is a registry schema resolved against our schema of its name.
type writer struct {
	name   string
	schema *schemas.Schema
}

// NewDecoder returns a Decoder. lookup returns the schema text that a
// registry holds under an id; it is called once per id and may be nil when
// no value is registry framed. Single-object values need no lookup: their
// fingerprint must be that of an embedded schema.
func NewDecoder(lookup func(id int) (string, error)) *Decoder {
	return &Decoder{lookup: lookup, writers: make(map[int]*writer)}
}

// Decode decodes a value of any of our schemas: it returns an *Event or a
// *DeadLetter.
func (d *Decoder) Decode(value []byte) (any, error) {
	name, s, datum, err := d.schemaOf(value)
	if err != nil {
		return nil, err
	}
	if name == schemas.DeadLetterName {
		return decodeDeadLetter(s, datum)
	}
	return decodeEvent(s, datum)
}

// DecodeEvent decodes a value of the calls or failed topic.
func (d *Decoder) DecodeEvent(value []byte) (*Event, error) {
	name, s, datum, err := d.schemaOf(value)
	if err != nil {
		return nil, err
	}
	if name != schemas.CallEventName {
		return nil, fmt.Errorf("decoding call event: %w: %s", ErrWrongSchema, name)
	}
	return decodeEvent(s, datum)
}

// DecodeDeadLetter decodes a value of the dead-letter topic.
func (d *Decoder) DecodeDeadLetter(value []byte) (*DeadLetter, error) {
	name, s, datum, err := d.schemaOf(value)
	if err != nil {
		return nil, err
	}
	if name != schemas.DeadLetterName {
		return nil, fmt.Errorf("decoding dead letter: %w: %s", ErrWrongSchema, name)
	}
	return decodeDeadLetter(s, datum)
}

// schemaOf reads the framing of value and returns the full name of the
// schema it was written with, the schema to decode its datum with, and the
// datum.
func (d *Decoder) schemaOf(value []byte) (string, *schemas.Schema, []byte, error) {
	switch {
	case len(value) >= 2 && value[0] == 0xC3 && value[1] == 0x01:
		fp, datum, err := schemas.SingleObjectFingerprint(value)
		if err != nil {
			return "", nil, nil, fmt.Errorf("decoding value: %w", err)
		}
		for _, s := range []*schemas.Schema{schemas.CallEvent(), schemas.DeadLetter()} {
			if s.Fingerprint() == fp {
				return s.Name(), s, datum, nil
			}
		}
		return "", nil, nil, fmt.Errorf("decoding value: unknown schema fingerprint %x", fp)
	case len(value) >= 5 && value[0] == 0:
		id := int(binary.BigEndian.Uint32(value[1:5]))
		w, err := d.writer(id)
		if err != nil {
			return "", nil, nil, err
		}
		return w.name, w.schema, value[5:], nil
	default:
		return "", nil, nil, fmt.Errorf("decoding value: %w", ErrUnknownFraming)
	}
}

// writer returns the schema of a registry id, looked up and resolved once.
// Failures are not cached: a registry that is down now may answer later.
func (d *Decoder) writer(id int) (*writer, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if w, ok := d.writers[id]; ok {
		return w, nil
	}
	if d.lookup == nil {
		return nil, fmt.Errorf("decoding value of schema id %d: %w", id, ErrNoRegistry)
	}
	text, err := d.lookup(id)
	if err != nil {
		return nil, fmt.Errorf("looking up schema id %d: %w", id, err)
	}
	ws, err := schemas.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("reading schema id %d: %w", id, err)
	}
	var reader *schemas.Schema
	switch ws.Name() {
	case schemas.CallEventName:
		reader = schemas.CallEvent()
	case schemas.DeadLetterName:
		reader = schemas.DeadLetter()
	default:
		return nil, fmt.Errorf("reading schema id %d: %w: %q", id, ErrWrongSchema, ws.Name())
	}
	rs, err := schemas.Resolve(ws, reader)
	if err != nil {
		return nil, fmt.Errorf("reading schema id %d: %w", id, err)
	}
	w := &writer{name: ws.Name(), schema: rs}
	d.writers[id] = w
	return w, nil
}

func decodeEvent(s *schemas.Schema, datum []byte) (*Event, error) {
	var e Event
	if err := s.Decode(datum, &e); err != nil {
		return nil, err
	}
	if e.Call == nil {
		return nil, fmt.Errorf("decoding call event: %w", errNilCall)
	}
	content, err := contentFromAvro(e.Call.Content)
	if err != nil {
		return nil, fmt.Errorf("decoding call event %s: %w", e.EventID, err)
	}
	e.Call.Content = content
	normalize(e.Call)
	return &e, nil
}

func decodeDeadLetter(s *schemas.Schema, datum []byte) (*DeadLetter, error) {
	var dl DeadLetter
	if err := s.Decode(datum, &dl); err != nil {
		return nil, err
	}
	return &dl, nil
}

// normalize makes empty collections nil, as calllist.DecodeCall makes them,
// so that a decoded call equals the one encoded.
func normalize(c *Call) {
	if len(c.Departments) == 0 {
		c.Departments = nil
	}
	for i := range c.Departments {
		if len(c.Departments[i].Path) == 0 {
			c.Departments[i].Path = nil
		}
		if len(c.Departments[i].Extra) == 0 {
			c.Departments[i].Extra = nil
		}
	}
	if len(c.Extra) == 0 {
		c.Extra = nil
	}
	if t, ok := c.Content.(*Transcript); ok && len(t.Sentences) == 0 {
		t.Sentences = nil
	}
	if c.Message != nil && len(c.Message.Extra) == 0 {
		c.Message.Extra = nil
	}
}

// contentFromAvro converts the decoded content union, which arrives in the
// tagged form {"callstream.Transcript": {...}}, into *Transcript or
// *TaskStatus.
func contentFromAvro(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	tagged, ok := v.(map[string]any)
	if !ok || len(tagged) != 1 {
		return nil, fmt.Errorf("decoding content: unexpected %T", v)
	}
	var branch string
	var inner any
	for k, v := range tagged {
		branch, inner = k, v // the only entry
	}
	m, ok := inner.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("decoding content: %s is %T", branch, inner)
	}
	f := fields{m: m}
	switch branch {
	case transcriptBranch:
		return f.transcript()
	case taskStatusBranch:
		return f.taskStatus()
	}
	return nil, fmt.Errorf("decoding content: unknown branch %q", branch)
}

// fields reads a decoded record, keeping the first error.
type fields struct {
	m   map[string]any
	err error
}

func field[T any](f *fields, name string) T {
	v, ok := f.m[name].(T)
	if !ok && f.err == nil {
		f.err = fmt.Errorf("decoding content: field %s is %T, want %T", name, f.m[name], v)
	}
	return v
}

func (f *fields) transcript() (*Transcript, error) {
	var t Transcript
	for _, s := range field[[]any](f, "sentences") {
		sm, ok := s.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("decoding content: sentence is %T", s)
		}
		sf := fields{m: sm}
		t.Sentences = append(t.Sentences, Sentence{
			BeginTimeMs: field[int64](&sf, "beginTimeMs"),
			EndTimeMs:   field[int64](&sf, "endTimeMs"),
			Text:        field[string](&sf, "text"),
			ChannelID:   field[int32](&sf, "channelId"),
			Extra:       sf.extra(),
		})
		if sf.err != nil {
			return nil, sf.err
		}
	}
	t.Extra = f.extra()
	return &t, f.err
}

// extra reads the extra map of a record, nil when empty.
func (f *fields) extra() map[string]string {
	m := field[map[string]any](f, "extra")
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		s, ok := v.(string)
		if !ok && f.err == nil {
			f.err = fmt.Errorf("decoding content: extra %s is %T, want string", k, v)
		}
		out[k] = s
	}
	return out
}

func (f *fields) taskStatus() (*TaskStatus, error) {
	ts := &TaskStatus{
		TaskID:      field[string](f, "taskId"),
		StatusText:  field[string](f, "statusText"),
		RequestTime: field[time.Time](f, "requestTime"),
		SolveTime:   field[time.Time](f, "solveTime"),
		StatusCode:  field[int64](f, "statusCode"),
		Extra:       f.extra(),
	}
	return ts, f.err
}
