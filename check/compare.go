package check

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/simulator"
)

// maxProblems caps Report.Problems: past it, one last line counts the rest.
const maxProblems = 50

// Report is the result of Compare.
type Report struct {
	Calls      int // calls in the truth
	Events     int // events read from the calls and failed topics
	Lost       int // changes missing: calls without events, final statuses not reached, gaps, dead letters missing
	Duplicated int // records beyond the first for one (call id, status), or one dead letter's raw content
	// Problems describes each violation, capped at 50 lines plus one that
	// counts the rest.
	Problems []string
}

// OK reports whether the output meets the contract.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// String summarises the report, with its problems one a line.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d calls, %d events, %d lost, %d duplicated, %d problems",
		r.Calls, r.Events, r.Lost, r.Duplicated, len(r.Problems))
	for _, p := range r.Problems {
		b.WriteString("\n  ")
		b.WriteString(p)
	}
	return b.String()
}

// comparer accumulates a Report.
type comparer struct {
	Report
	topics  Topics
	total   int // problems found, including those past the cap
	truth   map[int64]simulator.Record
	wantDLQ map[int64]bool
}

func (c *comparer) problem(format string, args ...any) {
	c.total++
	if c.total <= maxProblems {
		c.Problems = append(c.Problems, fmt.Sprintf(format, args...))
	}
}

// Compare checks out against truth, the simulator's records with their
// current statuses, and wantDLQ, the ids of the calls whose records must
// be dead-lettered. It checks that:
//   - every call of the truth has events, and no event is of an unknown call;
//   - each (call id, status) appears once over the calls and failed topics,
//     UPDATED events aside;
//   - a call's first event is CREATED with no previous status, and each
//     later one is STATUS_CHANGED with the status of the event before it,
//     where order is the offset within a partition and, across topics, the
//     chain of previous statuses;
//   - the last status of each call is its status in the truth;
//   - record keys are the decimal call id, and one call stays on one
//     partition of each topic;
//   - events with status 0 are in the failed topic, all others in the
//     calls topic, and the failed topic holds exactly the calls whose
//     status in the truth is 0;
//   - the dead-letter topic holds exactly the ids of wantDLQ, once per
//     distinct raw record;
//   - an UPDATED event carries its own status as the previous one and
//     follows the event of that status; no event id repeats;
//   - when the current-state topic holds records: the last record of
//     each call there has the call's status and, for a converted call, the
//     sentences of its transcript in the truth (a corrected transcript
//     reaches it), and every record there is one of the events.
//
// The calls of wantDLQ need no events, and their last status is not
// checked, but any events they have must still be well formed.
func Compare(truth []simulator.Record, out *Output, wantDLQ map[int64]bool) Report {
	c := &comparer{topics: out.Topics.withDefaults(), truth: make(map[int64]simulator.Record, len(truth)), wantDLQ: wantDLQ}
	c.Calls, c.Events = len(truth), len(out.Events)
	for _, r := range truth {
		c.truth[r.ID] = r
	}
	for _, b := range out.Bad {
		c.problem("%s: value does not decode: %v", b.Meta, b.Err)
	}
	byCall := c.groupEvents(out.Events)
	for _, id := range slices.Sorted(maps.Keys(c.truth)) {
		evs := byCall[id]
		if len(evs) == 0 {
			if !wantDLQ[id] {
				c.Lost++
				c.problem("call %d (status %d): no event", id, c.truth[id].Status)
			}
			continue
		}
		c.checkCall(id, evs)
	}
	c.checkFailedTopic(byCall)
	c.checkLatest(byCall, out.Latest)
	c.checkDeadLetters(out.DeadLetters)
	if c.total > maxProblems {
		c.Problems = append(c.Problems, fmt.Sprintf("... and %d more problems", c.total-maxProblems))
	}
	return c.Report
}

// String formats m as topic/partition@offset.
func (m Meta) String() string { return fmt.Sprintf("%s/%d@%d", m.Topic, m.Partition, m.Offset) }

// groupEvents checks what each event says on its own (key, topic, known
// call) and groups the events by call id, keeping the order of out.
func (c *comparer) groupEvents(events []EventRecord) map[int64][]*EventRecord {
	byCall := make(map[int64][]*EventRecord)
	for i := range events {
		er := &events[i]
		call := er.Event.Call
		if er.Key != strconv.FormatInt(call.ID, 10) {
			c.problem("%s: key %q, want the call id %d", er.Meta, er.Key, call.ID)
		}
		want := c.topics.Calls
		if call.Status == 0 {
			want = c.topics.Failed
		}
		if er.Topic != want {
			c.problem("%s: call %d status %d in topic %s, want %s", er.Meta, call.ID, call.Status, er.Topic, want)
		}
		if _, ok := c.truth[call.ID]; !ok && byCall[call.ID] == nil {
			c.problem("%s: call %d is not in the truth", er.Meta, call.ID)
		}
		byCall[call.ID] = append(byCall[call.ID], er)
	}
	return byCall
}

// checkFailedTopic checks that the failed topic holds exactly the calls
// whose status in the truth is 0.
func (c *comparer) checkFailedTopic(byCall map[int64][]*EventRecord) {
	inFailed := make(map[int64]bool)
	for id, evs := range byCall {
		for _, er := range evs {
			if er.Topic == c.topics.Failed {
				inFailed[id] = true
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(inFailed)) {
		if r, ok := c.truth[id]; ok && r.Status != 0 {
			c.problem("call %d is in the failed topic, but its status is %d", id, r.Status)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(c.truth)) {
		if c.truth[id].Status == 0 && !inFailed[id] && len(byCall[id]) > 0 && !c.wantDLQ[id] {
			c.problem("call %d failed (status 0) but is not in the failed topic", id)
		}
	}
}

// checkDeadLetters checks that the dead-letter topic holds exactly the
// calls of wantDLQ, once per distinct raw record.
func (c *comparer) checkDeadLetters(dls []DeadLetterRecord) {
	type letter struct {
		id  int64
		raw string
	}
	seen := make(map[letter]bool)
	got := make(map[int64]bool)
	for _, dl := range dls {
		d := dl.DeadLetter
		if d.CallID == nil {
			c.problem("%s: dead letter (%s) without a call id", dl.Meta, d.Reason)
			continue
		}
		id := *d.CallID
		if dl.Key != strconv.FormatInt(id, 10) {
			c.problem("%s: dead letter key %q, want the call id %d", dl.Meta, dl.Key, id)
		}
		if !c.wantDLQ[id] {
			c.problem("%s: unexpected dead letter (%s) for call %d: %s", dl.Meta, d.Reason, id, d.Error)
		}
		if l := (letter{id, d.Raw}); seen[l] {
			c.Duplicated++
			c.problem("%s: dead letter for call %d repeats a raw record already dead-lettered", dl.Meta, id)
		} else {
			seen[l] = true
		}
		got[id] = true
	}
	for _, id := range slices.Sorted(maps.Keys(c.wantDLQ)) {
		if c.wantDLQ[id] && !got[id] {
			c.Lost++
			c.problem("call %d: no dead letter", id)
		}
	}
}

// ReasonTooLarge is the dead-letter reason of a call whose event is larger
// than its topic takes (the connector's own name for it, spelt here apart,
// as the contract readers see).
const ReasonTooLarge = "too_large"

// checkReason adds a problem for each dead letter of a call of ids whose
// reason is not reason.
func (r *Report) checkReason(out *Output, ids map[int64]bool, reason string) {
	for _, dl := range out.DeadLetters {
		d := dl.DeadLetter
		if d.CallID != nil && ids[*d.CallID] && d.Reason != reason {
			r.Problems = append(r.Problems, fmt.Sprintf("%s: dead letter of call %d for %s, want %s", dl.Meta, *d.CallID, d.Reason, reason))
		}
	}
}

// checkCall checks the events of one call of the truth.
func (c *comparer) checkCall(id int64, evs []*EventRecord) {
	byStatus := make(map[int32]*EventRecord)
	var updates []*EventRecord
	for _, er := range evs {
		s := er.Event.Call.Status
		if er.Event.Kind == event.Updated {
			updates = append(updates, er)
			continue
		}
		if first, dup := byStatus[s]; dup {
			c.Duplicated++
			c.problem("call %d status %d: again at %s, first at %s", id, s, er.Meta, first.Meta)
			continue
		}
		byStatus[s] = er
	}
	chain := c.chain(id, byStatus)
	c.checkOrder(id, chain)
	c.checkUpdates(id, byStatus, updates)
	if len(chain) > 0 && !c.wantDLQ[id] {
		last := chain[len(chain)-1].Event.Call.Status
		if want := c.truth[id].Status; last != want {
			c.Lost++
			c.problem("call %d: last status %d, truth says %d", id, last, want)
		}
	}
}

// checkUpdates checks a call's UPDATED events: each carries its own status
// as the previous one, follows the CREATED or STATUS_CHANGED event of that
// status in the same topic and partition, and no event id repeats.
func (c *comparer) checkUpdates(id int64, byStatus map[int32]*EventRecord, updates []*EventRecord) {
	ids := make(map[string]*EventRecord, len(byStatus)+len(updates))
	for _, er := range byStatus {
		ids[er.Event.EventID] = er
	}
	for _, er := range updates {
		e := er.Event
		s := e.Call.Status
		if first, dup := ids[e.EventID]; dup {
			c.Duplicated++
			c.problem("%s: call %d event %s again, first at %s", er.Meta, id, e.EventID, first.Meta)
			continue
		}
		ids[e.EventID] = er
		if e.PreviousStatus == nil || *e.PreviousStatus != s {
			c.problem("%s: call %d UPDATED with status %d and previous status %v, want the same", er.Meta, id, s, previousText(e.PreviousStatus))
		}
		base := byStatus[s]
		switch {
		case base == nil:
			c.Lost++
			c.problem("%s: call %d UPDATED in status %d, which has no event", er.Meta, id, s)
		case base.Topic == er.Topic && (base.Partition != er.Partition || base.Offset > er.Offset):
			c.problem("%s: call %d UPDATED before or beside the event of its status at %s", er.Meta, id, base.Meta)
		}
	}
}

func previousText(p *int32) string {
	if p == nil {
		return "null"
	}
	return strconv.Itoa(int(*p))
}

// checkLatest checks the current-state topic: the last record of each call
// there has the call's status in the truth and, for a converted call, the
// truth's transcript, and every record there is one of the events.
func (c *comparer) checkLatest(byCall map[int64][]*EventRecord, latest []EventRecord) {
	if len(latest) == 0 {
		return
	}
	events := make(map[string]bool)
	for _, evs := range byCall {
		for _, er := range evs {
			events[er.Event.EventID] = true
		}
	}
	last := make(map[int64]*EventRecord)
	for i := range latest {
		lr := &latest[i]
		id := lr.Event.Call.ID
		if lr.Key != strconv.FormatInt(id, 10) {
			c.problem("%s: key %q, want the call id %d", lr.Meta, lr.Key, id)
		}
		if !events[lr.Event.EventID] {
			c.problem("%s: call %d event %s is in no event topic", lr.Meta, id, lr.Event.EventID)
		}
		if prev, ok := last[id]; ok && prev.Partition != lr.Partition {
			c.problem("%s: call %d on partitions %d and %d", lr.Meta, id, prev.Partition, lr.Partition)
		}
		last[id] = lr
	}
	for _, id := range slices.Sorted(maps.Keys(byCall)) {
		if _, known := c.truth[id]; !known || c.wantDLQ[id] {
			continue // reported by checkCall, or needs no events
		}
		got, ok := last[id]
		switch want := c.truth[id].Status; {
		case !ok:
			c.Lost++
			c.problem("call %d: not in the current-state topic", id)
		case got.Event.Call.Status != want:
			c.Lost++
			c.problem("%s: call %d latest status %d, truth says %d", got.Meta, id, got.Event.Call.Status, want)
		default:
			c.checkTranscript(got, c.truth[id])
		}
	}
}
