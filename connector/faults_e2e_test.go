package connector

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callstream/callstream/check"
	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/connector/schedule"
	"github.com/callstream/callstream/metrics"
	"github.com/callstream/callstream/simulator"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// faultySimulator serves a simulator with the faults of spec.
func faultySimulator(t *testing.T, cfg simulator.Config, spec string) string {
	t.Helper()
	fs, err := simulator.ParseFaults(spec)
	if err != nil {
		t.Fatal(err)
	}
	cfg.FaultSpec = fs
	return newSimulator(t, cfg).URL
}

// awaitTruth polls the output until it matches the simulator's truth, the
// dead-letter topic holding exactly the calls the simulator broke, and
// returns the report and the output.
func awaitTruth(t *testing.T, simURL string, brokers []string, timeout time.Duration) (check.Report, *check.Output) {
	t.Helper()
	return awaitWant(t, simURL, brokers, check.Want{Broken: true}, timeout)
}

// awaitWant is awaitTruth with what the output must hold.
func awaitWant(t *testing.T, simURL string, brokers []string, want check.Want, timeout time.Duration) (check.Report, *check.Output) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	r, out, err := check.Await(ctx, check.Target{SimURL: simURL, Kafka: []kgo.Opt{kgo.SeedBrokers(brokers...)}},
		want, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	return r, out
}

// startConnector runs a connector with opts until the test ends.
func startConnector(t *testing.T, cfg Config, opts Options) {
	t.Helper()
	c, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	startRunning(t, c)
}

// For each fault, the output equals the truth and the fault is counted in
// its metric.
func TestFaultsOutputMatchesTruth(t *testing.T) {
	for _, tc := range []struct {
		name, spec string
		// counted reads the metric that must have counted the fault.
		counted func(m *metrics.Metrics) float64
		// rescans adds the calls first seen by a re-scan to counted.
		rescans bool
		mod     func(*Config)
		calls   int // new calls, 300 unless set
	}{
		{name: "http500", spec: "http500=0.2", counted: apiErrors("http")},
		{name: "http429", spec: "http429=0.2,retry-after=1s", counted: apiErrors("http")},
		{name: "business", spec: "business=0.2", counted: apiErrors("business")},
		{name: "malformed", spec: "malformed=0.2", counted: apiErrors("decode")},
		{name: "truncated", spec: "truncated=0.2", counted: apiErrors("decode")},
		{name: "slow past the request timeout", spec: "slow=0.1:3s", counted: apiErrors("transport"),
			mod: func(c *Config) { c.RequestTimeout = 500 * time.Millisecond }},
		// A call inserted into a window as it is paged makes the
		// connector read the window again; one inserted into a window
		// read already is found by a re-scan. Which of the two a run
		// sees depends on timing, so either counts.
		{name: "insert while paging", spec: "insert-while-paging=0.5:10s",
			counted: func(m *metrics.Metrics) float64 { return testutil.ToFloat64(m.WindowRereads) }, rescans: true,
			// Small pages: reads of many pages, during which calls
			// appear, for 15 seconds.
			mod: func(c *Config) { c.PageSize, c.MaxPages = 5, 20 }, calls: 900},
		{name: "broken inner JSON", spec: "broken-json=0.2",
			counted: func(m *metrics.Metrics) float64 { return sum(m.DLQRecords) }},
		{name: "server clock ahead", spec: "skew=90s", counted: skew(90)},
		{name: "server clock behind", spec: "skew=-90s", counted: skew(-90)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cluster := newCluster(t)
			calls := cmp.Or(tc.calls, 300)
			sim := faultySimulator(t, simulator.Config{
				Seed: 3, History: 150, HistorySpan: 2 * time.Hour, Calls: calls, Rate: 60,
				ConvertAfter: time.Second, FailRatio: 0.2,
			}, tc.spec)
			cfg := testConfig(t, sim, cluster.ListenAddrs())
			if tc.mod != nil {
				tc.mod(&cfg)
			}
			m := metrics.New(prometheus.NewRegistry())
			var rescued atomic.Int64 // CREATED events from a re-scan tier
			startConnector(t, cfg, Options{Metrics: m, OnCommit: func(c Committed) {
				if c.Kind == event.Created.String() && c.Tier != "live" && c.Tier != "backfill" {
					rescued.Add(1)
				}
			}})
			// The live calls arrive, settle and convert.
			time.Sleep(time.Duration(calls/60+2) * time.Second)
			r, _ := awaitTruth(t, sim, cluster.ListenAddrs(), 90*time.Second)
			counted := tc.counted(m)
			if tc.rescans {
				counted += float64(rescued.Load())
			}
			if counted == 0 {
				t.Errorf("fault %s not counted in its metric", tc.spec)
			}
			t.Logf("%s: %s; counted %v (re-scans found %d calls)", tc.spec, r, counted, rescued.Load())
		})
	}
}

// sum adds up every series of a counter vector.
func sum(c prometheus.Collector) float64 {
	ch := make(chan prometheus.Metric, 64)
	go func() { c.Collect(ch); close(ch) }()
	var total float64
	for m := range ch {
		var pb dto.Metric
		if m.Write(&pb) == nil && pb.Counter != nil {
			total += pb.Counter.GetValue()
		}
	}
	return total
}

func apiErrors(kind string) func(*metrics.Metrics) float64 {
	return func(m *metrics.Metrics) float64 {
		return sum(m.APIErrors.MustCurryWith(prometheus.Labels{"kind": kind}))
	}
}

// skew counts the clock skew gauge only when it is within 3s of want.
func skew(want float64) func(*metrics.Metrics) float64 {
	return func(m *metrics.Metrics) float64 {
		if got := testutil.ToFloat64(m.ClockSkew); got > want-3 && got < want+3 {
			return 1
		}
		return 0
	}
}

// A broken record is dead-lettered once, however often the tiers read it
// again.
func TestBrokenRecordsDeadLetteredOnceAcrossRescans(t *testing.T) {
	cluster := newCluster(t)
	sim := faultySimulator(t, simulator.Config{
		Seed: 13, History: 200, HistorySpan: time.Hour, ConvertAfter: time.Second,
	}, "broken-json=0.1")
	cfg := testConfig(t, sim, cluster.ListenAddrs())
	cfg.Schedule.Tiers, _ = schedule.ParseTiers("recent=1m@0s,deep=3h@500ms")
	m := metrics.New(prometheus.NewRegistry())
	startConnector(t, cfg, Options{Metrics: m})
	r, out := awaitTruth(t, sim, cluster.ListenAddrs(), 60*time.Second)
	sweeps := testutil.ToFloat64(m.WindowsRead.WithLabelValues("deep"))
	// Several more sweeps of the deep tier read every broken record again.
	deadline := time.Now().Add(30 * time.Second)
	for testutil.ToFloat64(m.WindowsRead.WithLabelValues("deep")) < sweeps+3 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	r2, out2 := awaitTruth(t, sim, cluster.ListenAddrs(), 30*time.Second)
	if len(out.DeadLetters) == 0 || len(out2.DeadLetters) != len(out.DeadLetters) {
		t.Errorf("dead letters: %d, then %d after more re-scans; want the same, more than 0", len(out.DeadLetters), len(out2.DeadLetters))
	}
	if got := sum(m.DLQRecords); int(got) != len(out2.DeadLetters) {
		t.Errorf("dlq_records_total = %v, want %d", got, len(out2.DeadLetters))
	}
	t.Logf("%s; then %s", r, r2)
}

// A status that changes later than the first tier's horizon is seen by
// the deeper tier.
func TestLateStatusSeenByADeeperTier(t *testing.T) {
	cluster := newCluster(t)
	sim := faultySimulator(t, simulator.Config{
		Seed: 17, Calls: 60, Rate: 20, ConvertAfter: time.Second, FailRatio: 0.2,
	}, "late-status=0.5:6s")
	cfg := testConfig(t, sim, cluster.ListenAddrs())
	cfg.Schedule.Tiers, _ = schedule.ParseTiers("recent=2s@0s,deep=1h@1s")
	startConnector(t, cfg, Options{})
	time.Sleep(10 * time.Second) // every call arrived and converted, late ones too
	_, out := awaitTruth(t, sim, cluster.ListenAddrs(), 60*time.Second)
	late, byTier := 0, map[string]int{}
	for _, er := range out.Events {
		e := er.Event
		if e.Kind != event.StatusChanged {
			continue
		}
		byTier[e.Source.Tier]++
		if e.Source.ObservedAt.Sub(e.Call.GmtCreateTime) > 5*time.Second {
			late++
			if e.Source.Tier != "deep" {
				t.Errorf("call %d changed %s after it was created, seen by tier %q, want deep",
					e.Call.ID, e.Source.ObservedAt.Sub(e.Call.GmtCreateTime), e.Source.Tier)
			}
		}
	}
	if late == 0 {
		t.Errorf("no late status change seen; status changes by tier: %v", byTier)
	}
	t.Logf("status changes by tier: %v, %d late", byTier, late)
}

// committedAt records when each call's events committed.
type committedAt struct {
	mu      sync.Mutex
	created map[int64]time.Time // commit time of each call's CREATED event
	calls   map[int64]time.Time // the call's gmtCreateTime
}

func (c *committedAt) onCommit(e Committed) {
	if e.Kind != event.Created.String() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.created[e.CallID] = time.Now()
	c.calls[e.CallID] = e.Call.GmtCreateTime
}

// The faults of the content against a broker whose limit is small: every
// call with a large transcript, which compresses badly, is a too_large dead
// letter by id instead of its converted event, and nothing aborts; the
// corrected transcripts are UPDATED events and reach the current-state
// topic; nothing is emitted twice and the calls after the large ones are
// delivered (the output holds the whole truth).
func TestContentFaults(t *testing.T) {
	const limit = 200_000
	cluster := newCluster(t, kfake.BrokerConfigs(map[string]string{"message.max.bytes": strconv.Itoa(limit)}))
	sim := faultySimulator(t, simulator.Config{
		Seed: 23, History: 100, HistorySpan: time.Hour, Calls: 100, Rate: 20, ConvertAfter: time.Second, FailRatio: 0.1,
	}, "large-transcript=25:300000,corrected=0.3:3s,broken-json=0.05")
	cfg := testConfig(t, sim, cluster.ListenAddrs())
	m := metrics.New(prometheus.NewRegistry())
	startConnector(t, cfg, Options{Metrics: m})
	time.Sleep(10 * time.Second) // the live calls arrived, converted and were corrected
	r, out := awaitWant(t, sim, cluster.ListenAddrs(), check.Want{Broken: true, Large: true, Settled: true}, 90*time.Second)
	if r.Duplicated != 0 {
		t.Errorf("duplicated: %s", r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	large, err := check.FetchLarge(ctx, sim)
	if err != nil {
		t.Fatal(err)
	}
	if len(large) < 4 {
		t.Fatalf("%d large calls, want at least 4", len(large))
	}
	tooLarge, letters := map[int64]bool{}, 0 // a large call corrected has two records too large
	for _, dl := range out.DeadLetters {
		d := dl.DeadLetter
		if d.Reason != ReasonTooLarge {
			continue
		}
		tooLarge[*d.CallID] = true
		letters++
		if !strings.Contains(d.Error, fmt.Sprintf("call %d is ", *d.CallID)) || !strings.Contains(d.Error, fmt.Sprintf("more than the %d bytes", limit)) {
			t.Errorf("dead letter of call %d: %q, want its id, size and the limit", *d.CallID, d.Error)
		}
		if len(d.Raw) < limit/2 {
			t.Errorf("dead letter of call %d holds %d bytes of its record", *d.CallID, len(d.Raw))
		}
	}
	for id := range large {
		if !tooLarge[id] {
			t.Errorf("large call %d: no too_large dead letter", id)
		}
	}
	updated := 0
	for _, er := range out.Events {
		if er.Event.Kind == event.Updated {
			updated++
		}
	}
	if updated == 0 {
		t.Error("no UPDATED event, though transcripts were corrected")
	}
	if got := testutil.ToFloat64(m.Transactions.WithLabelValues("abort")); got != 0 {
		t.Errorf("%v transactions aborted", got)
	}
	if got := testutil.ToFloat64(m.DLQRecords.WithLabelValues(cfg.SourceName, ReasonTooLarge)); int(got) != letters {
		t.Errorf("dlq_records_total{reason=too_large} = %v, want %d", got, letters)
	}
	if got := testutil.ToFloat64(m.Events.WithLabelValues(cfg.SourceName, cfg.Topics.Calls, string(event.Updated))); int(got) != updated {
		t.Errorf("events_total{kind=UPDATED} = %v, want %d", got, updated)
	}
	t.Logf("%s; %d too_large dead letters of %d calls, %d UPDATED", r, letters, len(tooLarge), updated)
}
