package doctor

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/callstream/callstream/connector/calllist"
	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/connector/schedule"
)

// ChangesGap is how long api.changes waits between its two reads (tests
// shorten it). A vendor that rewrites a field on every read (a URL with an
// expiring token) would make every re-scan emit UPDATED events.
var ChangesGap = 5 * time.Second

// checkChanges reads page 1 of typ, waits ChangesGap, reads it again, and
// compares the calls listed both times whose status is the same: each
// field of the decoded call that differs is named. Fields that --ignore-changes
// names pass; so does everything with --emit-updates=false.
func (p *apiProbe) checkChanges(ctx context.Context, s calllist.Signer, typ string) Result {
	first, err := p.send(ctx, s, typ, p.cfg.PageSize)
	if err == nil && first.accepted() {
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-time.After(ChangesGap):
		}
	}
	var second answer
	if err == nil && first.accepted() {
		second, err = p.send(ctx, s, typ, p.cfg.PageSize)
	}
	switch {
	case err != nil:
		return fail(APIChanges, fmt.Sprintf("reading page 1 twice: %v", err), "run doctor again; if it keeps failing, check api.reach")
	case !first.accepted() || !second.accepted():
		return fail(APIChanges, "reading page 1 twice: the server refused a read", "run doctor again; the reads before it passed")
	}
	before := map[int64]calllist.Raw{}
	for _, r := range first.page.Records {
		if r.Err == nil {
			before[r.ID] = r
		}
	}
	var both int
	changed := map[string]int{} // field → calls whose field changed
	for _, r := range second.page.Records {
		b, ok := before[r.ID]
		if r.Err != nil || !ok {
			continue
		}
		both++
		if b.Hash == r.Hash {
			continue
		}
		for _, f := range changedFields(b.JSON, r.JSON) {
			changed[f]++
		}
	}
	detail := fmt.Sprintf("page 1 read twice %s apart: %d calls listed both times", schedule.FormatSpan(ChangesGap), both)
	if len(changed) == 0 {
		return pass(APIChanges, detail+", none changed with its status unchanged")
	}
	detail += ", fields changed with the status unchanged: " + countList(changed)
	var news []string
	for _, f := range slices.Sorted(maps.Keys(changed)) {
		if !slices.Contains(p.cfg.IgnoreChanges, f) {
			news = append(news, f)
		}
	}
	switch {
	case p.cfg.NoUpdates:
		return pass(APIChanges, detail+" (--emit-updates=false: no UPDATED events)")
	case len(news) == 0:
		return pass(APIChanges, detail+" (all in --ignore-changes)")
	}
	return fail(APIChanges, detail,
		fmt.Sprintf("a field that changes within seconds is no correction (an expiring token, a counter): each re-scan would emit an UPDATED event for it; "+
			"set --ignore-changes %s (or CALLSTREAM_IGNORE_CHANGES, or ignore-changes: in --config), or --emit-updates=false for CREATED and STATUS_CHANGED only",
			strings.Join(append(slices.Clone(p.cfg.IgnoreChanges), news...), ",")))
}

// changedFields names the fields of the call (event.HashFields, and
// extra.KEY for a key of extra) that differ between two records of one
// call whose status is the same; none when the statuses differ or either
// does not decode.
func changedFields(before, after []byte) []string {
	b, errB := calllist.DecodeCall(before)
	a, errA := calllist.DecodeCall(after)
	if errB != nil || errA != nil || b.Call.Status != a.Call.Status {
		return nil
	}
	var out []string
	for _, f := range event.HashFields {
		if f == "extra" {
			for _, k := range slices.Sorted(maps.Keys(union(b.Call.Extra, a.Call.Extra))) {
				vb, inB := b.Call.Extra[k]
				va, inA := a.Call.Extra[k]
				if inB != inA || vb != va {
					out = append(out, "extra."+k)
				}
			}
			continue
		}
		only, err := event.ParseIgnore(others(f))
		if err != nil {
			continue // HashFields are all known
		}
		if b.Call.Hash(only) != a.Call.Hash(only) {
			out = append(out, f)
		}
	}
	return out
}

// others is every field of event.HashFields but f: an Ignore of them hashes
// f alone.
func others(f string) []string {
	return slices.DeleteFunc(slices.Clone(event.HashFields), func(g string) bool { return g == f })
}

func union(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, b)
	return out
}
