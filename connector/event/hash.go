package event

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cespare/xxhash/v2"
)

// HashFields are the names of the Call fields that Call.Hash covers, as the
// schema names them: every field but the id, which keys the call. An
// Ignore may name any of them, or "extra.KEY" for one key of Extra.
var HashFields = []string{
	"taskId", "corpId", "type", "msgId", "preCost", "cost", "status", "statusStr", "method",
	"salesId", "salesName", "gmtCreateTime", "msgTime", "departments", "sendName", "receiveName",
	"callType", "url", "message", "content", "extra",
}

// Ignore is a set of Call fields whose values Call.Hash leaves out, so that
// a change of them alone is no change. The zero Ignore leaves out nothing.
type Ignore struct {
	fields map[string]bool
	extra  map[string]bool // keys of Call.Extra
}

// ParseIgnore returns the Ignore of names: fields of HashFields, or
// "extra.KEY". An unknown name is an error that names it.
func ParseIgnore(names []string) (Ignore, error) {
	var ig Ignore
	for _, n := range names {
		if key, ok := strings.CutPrefix(n, "extra."); ok && key != "" {
			if ig.extra == nil {
				ig.extra = map[string]bool{}
			}
			ig.extra[key] = true
			continue
		}
		if !slices.Contains(HashFields, n) {
			return Ignore{}, fmt.Errorf("unknown call field %q (want one of %s, or extra.KEY)", n, strings.Join(HashFields, ", "))
		}
		if ig.fields == nil {
			ig.fields = map[string]bool{}
		}
		ig.fields[n] = true
	}
	return ig, nil
}

// Hash returns a 32-bit hash of the call as decoded, without the fields
// that ig names: equal calls hash equal whatever the key order and
// whitespace of the vendor's JSON, since the JSON is parsed first. The
// inner JSON the decoder keeps raw (each value of an Extra map) counts as
// the text it is. The hash is xxhash64 over a length-prefixed walk of the
// fields, the maps in key order, folded to 32 bits; it is stored in the
// state topic, so it must not change between versions.
func (c *Call) Hash(ig Ignore) uint32 {
	h := hasher{d: xxhash.New()}
	skip := ig.fields
	strs := []struct {
		name, v string
	}{
		{"taskId", c.TaskID}, {"corpId", c.CorpID}, {"type", c.Type}, {"msgId", c.MsgID},
		{"statusStr", c.StatusStr}, {"method", c.Method}, {"salesName", c.SalesName},
		{"sendName", c.SendName}, {"receiveName", c.ReceiveName}, {"callType", c.CallType}, {"url", c.URL},
	}
	for i, f := range strs {
		if !skip[f.name] {
			h.tag(byte(i))
			h.str(f.v)
		}
	}
	ints := []struct {
		name string
		v    int64
	}{
		{"preCost", c.PreCost}, {"cost", c.Cost}, {"status", int64(c.Status)}, {"salesId", c.SalesID},
		{"gmtCreateTime", c.GmtCreateTime.UnixMilli()}, {"msgTime", c.MsgTime.UnixMilli()},
	}
	for i, f := range ints {
		if !skip[f.name] {
			h.tag(byte(32 + i))
			h.int(f.v)
		}
	}
	if !skip["departments"] {
		h.tag(64)
		h.int(int64(len(c.Departments)))
		for _, d := range c.Departments {
			h.int(d.ID)
			h.str(d.Level)
			h.str(d.Name)
			h.strMap(d.Extra, nil)
		}
	}
	if !skip["message"] {
		h.tag(65)
		h.taskStatus(c.Message)
	}
	if !skip["content"] {
		h.tag(66)
		switch content := c.Content.(type) {
		case *Transcript:
			h.tag(1)
			h.int(int64(len(content.Sentences)))
			for _, s := range content.Sentences {
				h.int(s.BeginTimeMs)
				h.int(s.EndTimeMs)
				h.int(int64(s.ChannelID))
				h.str(s.Text)
				h.strMap(s.Extra, nil)
			}
			h.strMap(content.Extra, nil)
		case *TaskStatus:
			h.tag(2)
			h.taskStatus(content)
		default:
			h.tag(0)
		}
	}
	if !skip["extra"] {
		h.tag(67)
		h.strMap(c.Extra, ig.extra)
	}
	sum := h.sum()
	return uint32(sum ^ sum>>32)
}

// hasher writes values to a digest so that no two different sequences of
// them write the same bytes: strings are length-prefixed. It gathers the
// small values in buf and hands the digest a few large writes rather than
// many of a few bytes; the bytes the digest sees are the same.
type hasher struct {
	d   *xxhash.Digest
	buf [512]byte
	n   int // bytes of buf in use
}

func (h *hasher) tag(b byte) {
	if h.n == len(h.buf) {
		h.flush()
	}
	h.buf[h.n] = b
	h.n++
}

func (h *hasher) int(v int64) {
	if h.n+8 > len(h.buf) {
		h.flush()
	}
	binary.LittleEndian.PutUint64(h.buf[h.n:], uint64(v))
	h.n += 8
}

func (h *hasher) str(s string) {
	h.int(int64(len(s)))
	if h.n+len(s) <= len(h.buf) {
		h.n += copy(h.buf[h.n:], s)
		return
	}
	h.flush()
	_, _ = h.d.WriteString(s)
}

// flush writes what buf gathered to the digest.
func (h *hasher) flush() {
	_, _ = h.d.Write(h.buf[:h.n])
	h.n = 0
}

// sum returns the digest of everything written.
func (h *hasher) sum() uint64 {
	h.flush()
	return h.d.Sum64()
}

// strMap writes m in key order, without the keys of skip.
func (h *hasher) strMap(m map[string]string, skip map[string]bool) {
	n := 0
	for k := range m {
		if !skip[k] {
			n++
		}
	}
	h.int(int64(n))
	if n == 0 {
		return
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !skip[k] {
			h.str(k)
			h.str(m[k])
		}
	}
}

func (h *hasher) taskStatus(t *TaskStatus) {
	if t == nil {
		h.tag(0)
		return
	}
	h.tag(1)
	h.str(t.TaskID)
	h.str(t.StatusText)
	h.int(t.RequestTime.UnixMilli())
	h.int(t.SolveTime.UnixMilli())
	h.int(t.StatusCode)
	h.strMap(t.Extra, nil)
}
