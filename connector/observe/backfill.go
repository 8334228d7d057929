package observe

import (
	"log/slog"
	"time"

	"github.com/callstream/callstream/connector/schedule"
)

// backfillLogEvery is how often the backfill's progress is logged while it
// runs.
const backfillLogEvery = 10 * time.Second

// BackfillProgress logs how far the backfill has come: the share of its
// range read, the records read a second and the time left at that pace,
// at most every backfillLogEvery, and once more when it is done. The pace
// counts this run only, so it is right after a restart too. It is used by
// the poller's goroutine only.
type BackfillProgress struct {
	Log        *slog.Logger
	started    time.Time // when this run read its first backfill window
	startRatio float64   // the progress then
	records    int
	lastLog    time.Time
}

// Window accounts for the backfill task begun at began and committed at
// now, which held records, after which the progress is ratio (0..1).
func (p *BackfillProgress) Window(began, now time.Time, records int, ratio float64, task schedule.Task) {
	if p.started.IsZero() {
		p.started, p.lastLog = began, now
		p.startRatio = ratio
	}
	p.records += records
	elapsed := now.Sub(p.started)
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(p.records) / s
	}
	if ratio >= 1 {
		p.Log.Info("backfill done", "records", p.records, "duration_seconds", elapsed.Seconds(), "records_per_second", rate)
		return
	}
	if now.Sub(p.lastLog) < backfillLogEvery {
		return
	}
	p.lastLog = now
	attrs := []any{"percent", 100 * ratio, "records", p.records, "records_per_second", rate,
		"window_seconds", task.Window.End.Sub(task.Window.Start).Seconds() + 1}
	if done := ratio - p.startRatio; done > 0 {
		eta := time.Duration(float64(elapsed) * (1 - ratio) / done)
		attrs = append(attrs, "eta_seconds", eta.Round(time.Second).Seconds())
	}
	p.Log.Info("backfill progress", attrs...)
}
