// Package schedule decides which window of the vendor's call list to read
// next: the live edge, re-scans of recent history in tiers, and the backfill.
//
// The schedule keeps no state of its own. Everything it needs is in the
// checkpoints of the state store, which commit in the same transaction as
// the events of the window that moved them; so after a crash the schedule
// resumes exactly where the committed output ends.
package schedule

import (
	"fmt"
	"strings"
	"time"
)

// Tier re-scans the last Horizon every Every, so that status changes of
// calls already read are seen (transcription finishes after a call first
// appears).
type Tier struct {
	Name    string
	Horizon time.Duration
	Every   time.Duration
}

// DefaultTiers re-scan the last 15 minutes every poll, the last day every 5
// minutes and the last week every hour.
const DefaultTiers = "recent=15m@0s,day=24h@5m,week=168h@1h"

// ParseTiers parses a tier list: comma-separated NAME=HORIZON@EVERY, e.g.
// "recent=15m@0s,day=24h@5m". EVERY 0s means every poll. Horizons must
// grow from one tier to the next; the last one is the deepest horizon,
// which bounds the dedup state.
func ParseTiers(spec string) ([]Tier, error) {
	var tiers []Tier
	seen := map[string]bool{}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		name, rest, ok1 := strings.Cut(part, "=")
		horizon, every, ok2 := strings.Cut(rest, "@")
		if !ok1 || !ok2 || name == "" {
			return nil, fmt.Errorf("tier %q: want NAME=HORIZON@EVERY", part)
		}
		h, err := time.ParseDuration(horizon)
		if err != nil || h <= 0 {
			return nil, fmt.Errorf("tier %q: horizon %q is not a positive duration", name, horizon)
		}
		e, err := time.ParseDuration(every)
		if err != nil || e < 0 {
			return nil, fmt.Errorf("tier %q: interval %q is not a duration ≥ 0", name, every)
		}
		if seen[name] || name == liveName || name == backfillName {
			return nil, fmt.Errorf("tier %q: name used twice or reserved", name)
		}
		seen[name] = true
		if n := len(tiers); n > 0 && h <= tiers[n-1].Horizon {
			return nil, fmt.Errorf("tier %q: horizon %s must exceed the previous tier's %s", name, h, tiers[n-1].Horizon)
		}
		tiers = append(tiers, Tier{Name: name, Horizon: h, Every: e})
	}
	return tiers, nil
}

// FormatSpan writes d as tiers are written, without trailing zero units:
// 168h, 1h30m, 10m.
func FormatSpan(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
