package check

import (
	"maps"
	"slices"

	"github.com/callstream/callstream/connector/event"
)

// chain orders the events of one call, one per status, by their previous
// statuses: the CREATED event, then the event whose previous status is its
// status, and so on. It reports events of the wrong kind, gaps (a previous
// status without an event, counted as lost) and events that the chain does
// not reach.
func (c *comparer) chain(id int64, byStatus map[int32]*EventRecord) []*EventRecord {
	byPrev := make(map[int32][]*EventRecord)
	var start *EventRecord
	for _, s := range slices.Sorted(maps.Keys(byStatus)) {
		er := byStatus[s]
		e := er.Event
		switch {
		case e.Kind == event.Created && e.PreviousStatus != nil:
			c.problem("%s: call %d CREATED with previous status %d", er.Meta, id, *e.PreviousStatus)
		case e.Kind == event.Created && start != nil:
			c.problem("%s: call %d CREATED again (status %d), first at %s", er.Meta, id, s, start.Meta)
		case e.Kind == event.Created:
			start = er
		case e.PreviousStatus == nil:
			c.problem("%s: call %d %s without previous status", er.Meta, id, e.Kind)
		default:
			prev := *e.PreviousStatus
			byPrev[prev] = append(byPrev[prev], er)
			if byStatus[prev] == nil {
				c.Lost++
				c.problem("%s: call %d status %d follows status %d, which has no event", er.Meta, id, s, prev)
			}
		}
	}
	if start == nil {
		c.problem("call %d: no CREATED event", id)
		start = chainStart(byStatus, byPrev)
		if start == nil {
			return nil
		}
	}
	chain := []*EventRecord{start}
	reached := map[*EventRecord]bool{start: true}
	for cur := start; ; {
		next := byPrev[cur.Event.Call.Status]
		if len(next) > 1 {
			c.problem("call %d: %d events follow status %d", id, len(next), cur.Event.Call.Status)
		}
		if len(next) == 0 || reached[next[0]] {
			break
		}
		cur = next[0]
		chain = append(chain, cur)
		reached[cur] = true
	}
	for _, s := range slices.Sorted(maps.Keys(byStatus)) {
		if er := byStatus[s]; !reached[er] && er != start && er.Event.Kind != event.Created {
			c.problem("%s: call %d status %d is not in the chain of statuses from %s", er.Meta, id, s, start.Meta)
		}
	}
	return chain
}

// chainStart picks where to start a chain without a CREATED event: the
// first event whose previous status has no event.
func chainStart(byStatus map[int32]*EventRecord, byPrev map[int32][]*EventRecord) *EventRecord {
	for _, prev := range slices.Sorted(maps.Keys(byPrev)) {
		if byStatus[prev] == nil {
			return byPrev[prev][0]
		}
	}
	return nil
}

// checkOrder checks that chain, one call's events in the order of their
// statuses, keeps to one partition per topic and to increasing offsets
// within it.
func (c *comparer) checkOrder(id int64, chain []*EventRecord) {
	partition := make(map[string]*EventRecord)
	for _, er := range chain {
		last, ok := partition[er.Topic]
		partition[er.Topic] = er
		switch {
		case !ok:
		case last.Partition != er.Partition:
			c.problem("call %d: events on two partitions of %s: %s and %s", id, er.Topic, last.Meta, er.Meta)
		case last.Offset > er.Offset:
			c.problem("call %d: status %d at %s is before status %d at %s in the log, after it in the chain",
				id, er.Event.Call.Status, er.Meta, last.Event.Call.Status, last.Meta)
		}
	}
}
