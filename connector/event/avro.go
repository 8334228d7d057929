package event

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// The Avro binary encoding of a CallEvent (schemas/call_event.avsc),
// written field by field: a new call's hottest step after decoding, where
// the library's reflection cost four times as much (docs/performance.md).
// Decoding, dead letters and the schemas themselves stay with the library
// behind package schemas, and the tests hold these bytes to the library's
// for every shape of event (TestCallEventBytesAreTheLibrarys,
// FuzzCallEventBytes) and the written-for schema to the embedded one
// (TestCallEventEncoderKnowsTheSchema).

// appendCallEvent appends the Avro binary encoding of e to dst.
func appendCallEvent(dst []byte, e *Event) ([]byte, error) {
	dst = appendString(dst, e.EventID)
	switch e.Kind {
	case Created:
		dst = append(dst, 0)
	case StatusChanged:
		dst = append(dst, 2)
	case Updated:
		dst = append(dst, 4)
	default:
		return dst, fmt.Errorf("kind %q is not a symbol of EventKind", e.Kind)
	}
	if e.PreviousStatus == nil {
		dst = append(dst, 0)
	} else {
		dst = appendLong(append(dst, 2), int64(*e.PreviousStatus))
	}
	dst, err := appendCall(dst, e.Call)
	if err != nil {
		return dst, err
	}
	s := &e.Source
	dst = appendString(dst, s.App)
	dst = appendString(dst, s.Type)
	dst = appendString(dst, s.Tier)
	for _, t := range [...]time.Time{s.WindowStart, s.WindowEnd, s.ObservedAt} {
		if dst, err = appendMillis(dst, t); err != nil {
			return dst, err
		}
	}
	dst = appendString(dst, s.ConnectorVersion)
	return appendString(dst, s.Name), nil
}

func appendCall(dst []byte, c *Call) ([]byte, error) {
	dst = appendLong(dst, c.ID)
	dst = appendString(dst, c.TaskID)
	dst = appendString(dst, c.CorpID)
	dst = appendString(dst, c.Type)
	dst = appendString(dst, c.MsgID)
	dst = appendLong(dst, c.PreCost)
	dst = appendLong(dst, c.Cost)
	dst = appendLong(dst, int64(c.Status))
	dst = appendString(dst, c.StatusStr)
	dst = appendString(dst, c.Method)
	dst = appendLong(dst, c.SalesID)
	dst = appendString(dst, c.SalesName)
	dst, err := appendMillis(dst, c.GmtCreateTime)
	if err != nil {
		return dst, err
	}
	if dst, err = appendMillis(dst, c.MsgTime); err != nil {
		return dst, err
	}
	if len(c.Departments) > 0 {
		dst = appendLong(dst, int64(len(c.Departments)))
		for i := range c.Departments {
			d := &c.Departments[i]
			dst = appendLong(dst, d.ID)
			dst = appendString(dst, d.Level)
			if len(d.Path) > 0 {
				dst = appendLong(dst, int64(len(d.Path)))
				for _, id := range d.Path {
					dst = appendLong(dst, id)
				}
			}
			dst = append(dst, 0)
			dst = appendString(dst, d.Name)
			dst = appendMap(dst, d.Extra)
		}
	}
	dst = append(dst, 0)
	dst = appendString(dst, c.SendName)
	dst = appendString(dst, c.ReceiveName)
	dst = appendString(dst, c.CallType)
	dst = appendString(dst, c.URL)
	if c.Message == nil {
		dst = append(dst, 0)
	} else if dst, err = appendTaskStatus(append(dst, 2), c.Message); err != nil {
		return dst, err
	}
	switch content := c.Content.(type) {
	case nil:
		dst = append(dst, 0)
	case *Transcript:
		if content == nil {
			return dst, fmt.Errorf("content is a nil *Transcript")
		}
		dst = append(dst, 2)
		if len(content.Sentences) > 0 {
			dst = appendLong(dst, int64(len(content.Sentences)))
			for i := range content.Sentences {
				s := &content.Sentences[i]
				dst = appendLong(dst, s.BeginTimeMs)
				dst = appendLong(dst, s.EndTimeMs)
				dst = appendString(dst, s.Text)
				dst = appendLong(dst, int64(s.ChannelID))
				dst = appendMap(dst, s.Extra)
			}
		}
		dst = appendMap(append(dst, 0), content.Extra)
	case *TaskStatus:
		if content == nil {
			return dst, fmt.Errorf("content is a nil *TaskStatus")
		}
		if dst, err = appendTaskStatus(append(dst, 4), content); err != nil {
			return dst, err
		}
	default:
		return dst, fmt.Errorf("content of type %T", content)
	}
	return appendMap(dst, c.Extra), nil
}

func appendTaskStatus(dst []byte, t *TaskStatus) ([]byte, error) {
	dst = appendString(dst, t.TaskID)
	dst = appendString(dst, t.StatusText)
	dst, err := appendMillis(dst, t.RequestTime)
	if err != nil {
		return dst, err
	}
	if dst, err = appendMillis(dst, t.SolveTime); err != nil {
		return dst, err
	}
	dst = appendLong(dst, t.StatusCode)
	return appendMap(dst, t.Extra), nil
}

// appendLong appends a zig-zag varint: Avro's int and long.
func appendLong(dst []byte, v int64) []byte {
	u := uint64(v)<<1 ^ uint64(v>>63)
	for u >= 0x80 {
		dst = append(dst, byte(u)|0x80)
		u >>= 7
	}
	return append(dst, byte(u))
}

func appendString(dst []byte, s string) []byte {
	return append(appendLong(dst, int64(len(s))), s...)
}

// appendMap appends a map of strings in one block, its keys in order, so
// that equal maps give equal bytes.
func appendMap(dst []byte, m map[string]string) []byte {
	switch len(m) {
	case 0:
		return append(dst, 0)
	case 1:
		for k, v := range m {
			dst = appendString(appendLong(dst, 1), k)
			dst = appendString(dst, v)
		}
		return append(dst, 0)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = appendLong(dst, int64(len(m)))
	for _, k := range keys {
		dst = appendString(appendString(dst, k), m[k])
	}
	return append(dst, 0)
}

// appendMillis appends t as timestamp-millis: milliseconds since the
// epoch, rounded down, or an error where they overflow a long (the
// library's rule, to the millisecond).
func appendMillis(dst []byte, t time.Time) ([]byte, error) {
	const maxSec = math.MaxInt64 / 1000
	sec, msec := t.Unix(), int64(t.Nanosecond())/1e6
	if sec < 0 && t.Nanosecond() > 0 {
		scaled, adjust := (sec+1)*1000, msec-1000
		if sec+1 < -maxSec || adjust < math.MinInt64-scaled {
			return dst, fmt.Errorf("time %v overflows int64 milliseconds since epoch", t)
		}
		return appendLong(dst, scaled+adjust), nil
	}
	if sec > maxSec || sec < -maxSec || (sec == maxSec && msec > math.MaxInt64-sec*1000) {
		return dst, fmt.Errorf("time %v overflows int64 milliseconds since epoch", t)
	}
	return appendLong(dst, sec*1000+msec), nil
}
