package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callstream/callstream/check"
	"github.com/callstream/callstream/internal/proc"
	"github.com/callstream/callstream/secret"
	"github.com/callstream/callstream/simulator"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The scale-out scenarios: pods of one group share 12 sources (4 simulated
// apps × 3 request types) over 12 state partitions, and every source's
// output must equal its app's truth exactly once whatever happens to the
// pods.

// fleetTypes are the request types every simulated app lists its calls
// under: one source per app and type.
var fleetTypes = []string{"chat", "call", "voice"}

// fleet is a world of many apps: the pods run `--config` with a sources
// list and a group.
type fleet struct {
	*world
	apps   []string          // app ids
	truth  map[string]string // app id → URL of its truth alone
	config string            // the pods' --config file
	calls  int               // calls of each app once all arrived
}

// newFleet makes a fleet on an in-process broker with the kafka options,
// or on brokers when given.
func newFleet(t *testing.T, kafka []kfake.Opt, brokers []string, history, calls int, rate float64) *fleet {
	t.Helper()
	if testing.Short() {
		t.Skip("scale-out scenarios run connector processes for seconds")
	}
	w := &world{t: t, brokers: brokers, signs: map[string]bool{}}
	if brokers == nil {
		c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.DefaultNumPartitions(3)}, kafka...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		w.cluster, w.brokers = c, c.ListenAddrs()
	}
	f := &fleet{world: w, truth: map[string]string{}, calls: history + calls}
	var cfgs []simulator.Config
	yaml := "group: fleet\nstate-partitions: 12\nsession-timeout: 6s\nsources:\n"
	for i := range 4 {
		id := fmt.Sprintf("app-%d", i)
		cfgs = append(cfgs, simulator.Config{
			AppID: id, AppKey: fleetKey(id), Types: fleetTypes, Seed: int64(100 + i),
			History: history, HistorySpan: 2 * time.Hour, Calls: calls, Rate: rate,
			ConvertAfter: 2 * time.Second, FailRatio: 0.25,
		})
		f.apps = append(f.apps, id)
		for _, typ := range fleetTypes {
			yaml += fmt.Sprintf("  - {name: %s-%s, app-id: %s, app-key: %s, type: %s}\n", id, typ, id, fleetKey(id).Reveal(), typ)
		}
	}
	apps, err := simulator.NewApps(cfgs)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range f.apps {
		srv := httptest.NewServer(apps.App(id).Handler())
		t.Cleanup(srv.Close)
		f.truth[id] = srv.URL
	}
	w.serve(apps.Handler())
	f.config = filepath.Join(t.TempDir(), "callstream.yaml")
	if err := os.WriteFile(f.config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func fleetKey(appID string) secret.String { return secret.String("fleet-key-of-" + appID) }

// startPod starts a pod of the group.
func (f *fleet) startPod(extra ...string) *pod {
	f.t.Helper()
	return f.start(nil, append([]string{"--config", f.config}, extra...)...)
}

// owned is the state partitions p owns, from its metrics; -1 when it does
// not answer.
func (p *pod) owned() int {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	v, err := proc.ScrapeSum(ctx, "http://"+p.listen+"/metrics", "callstream_state_partitions_owned")
	if err != nil {
		return -1
	}
	return int(v)
}

// awaitOwned waits until the pods own all 12 partitions between them.
func (f *fleet) awaitOwned(d time.Duration, pods ...*pod) {
	f.t.Helper()
	deadline := time.Now().Add(d)
	for {
		sum, each := 0, []int{}
		for _, p := range pods {
			n := p.owned()
			each = append(each, n)
			sum += max(n, 0)
		}
		if sum == 12 {
			return
		}
		if time.Now().After(deadline) {
			var logs strings.Builder
			for _, p := range pods {
				fmt.Fprintf(&logs, "%s:\n%s\n", p.Name(), lastLines(infoLines(p.out.String()), 25))
			}
			f.t.Fatalf("pods own %v state partitions after %s, want 12 in all\n%s", each, d, logs.String())
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// infoLines drops the debug lines of a log.
func infoLines(log string) string {
	var keep []string
	for _, l := range strings.Split(log, "\n") {
		if !strings.Contains(l, `"level":"DEBUG"`) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// awaitSources waits until every source's output, told apart by the
// source name its events carry, holds its app's whole, settled truth
// exactly once, and nothing else is in the output.
func (f *fleet) awaitSources(d time.Duration) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	start := time.Now()
	var last string
	for {
		bad, err := f.compareSources(ctx)
		if err == nil && bad == "" {
			f.t.Logf("every source's output matched its truth after %s", time.Since(start).Round(time.Millisecond))
			return
		}
		if err != nil {
			bad = err.Error()
		}
		last = bad
		select {
		case <-ctx.Done():
			f.t.Fatalf("output never held every source's truth: %s\nlogs (tail):\n%s", last, lastLines(f.logs.String(), 40))
		case <-time.After(time.Second):
		}
	}
}

func (f *fleet) compareSources(ctx context.Context) (string, error) {
	truths := map[string][]simulator.Record{}
	for _, id := range f.apps {
		tr, err := check.FetchTruth(ctx, f.truth[id])
		if err != nil {
			return "", err
		}
		if len(tr) < f.calls || !check.Settled(tr) {
			return fmt.Sprintf("truth of %s: %d of %d calls, settled %v", id, len(tr), f.calls, check.Settled(tr)), nil
		}
		truths[id] = tr
	}
	out, err := check.ReadOutput(ctx, []kgo.Opt{kgo.SeedBrokers(f.brokers...)}, check.DefaultTopics())
	if err != nil {
		return "", err
	}
	if len(out.DeadLetters) > 0 || len(out.Bad) > 0 {
		return fmt.Sprintf("%d dead letters and %d bad records, want none", len(out.DeadLetters), len(out.Bad)), nil
	}
	unknown := map[string]int{}
	for _, e := range out.Events {
		unknown[e.Event.Source.Name]++
	}
	for _, id := range f.apps {
		for _, typ := range fleetTypes {
			name := id + "-" + typ
			r := check.Compare(truths[id], out.Source(name), nil)
			if !r.OK() {
				return fmt.Sprintf("source %s: %s", name, r), nil
			}
			delete(unknown, name)
		}
	}
	for name, n := range unknown {
		return fmt.Sprintf("%d events of source %q, which is not configured", n, name), nil
	}
	return "", nil
}

// checkKeys fails the test if an app key of the fleet shows in the logs
// or metrics.
func (f *fleet) checkKeys() {
	text := f.logs.String() + f.scrapes.String()
	for _, id := range f.apps {
		if strings.Contains(text, fleetKey(id).Reveal()) {
			f.t.Errorf("the app key of %s appears in the logs or metrics", id)
		}
	}
}

// TestGroupReliability runs 3 pods of one group and breaks them: kill -9
// at random moments (repeated, each killed pod replaced), a pod added, a
// pod stopped with SIGTERM, a pod paused (SIGSTOP) until its partitions
// moved and then resumed, which must find itself fenced, and a rolling
// update of every pod. Every source's output must equal its truth exactly
// once.
func TestGroupReliability(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto.name, func(t *testing.T) {
			cycles := crashCycles(t, 3)
			f := newFleet(t, proto.opts, nil, 40, 30, 2)
			seed := uint64(time.Now().UnixNano())
			rng := rand.New(rand.NewPCG(seed, seed))
			t.Logf("%d kill cycles, seed %d", cycles, seed)
			pods := []*pod{f.startPod(), f.startPod(), f.startPod()}
			f.awaitOwned(time.Minute, pods...)

			// kill -9 of a pod at a random moment, replaced at once. Each
			// kill waits until the group settled after the last: kfake's
			// classic coordinator can keep a member that dies while its
			// JoinGroup waits for a rebalance, without a session timer, for
			// good (Kafka expires it after the session timeout), and the
			// partitions assigned to it would then stand still.
			for range cycles {
				time.Sleep(time.Duration(200+rng.IntN(3000)) * time.Millisecond)
				i := rng.IntN(len(pods))
				pods[i].scrape()
				pods[i].Kill()
				pods[i] = f.startPod()
				f.awaitOwned(time.Minute, pods...)
			}

			// A pod added, then one stopped with SIGTERM.
			pods = append(pods, f.startPod())
			time.Sleep(time.Duration(rng.IntN(3000)) * time.Millisecond)
			pods[0].stop()
			pods = pods[1:]
			f.awaitOwned(time.Minute, pods...)

			// A pod paused until the others own its partitions, then resumed:
			// it is fenced, or told its partitions are lost, and commits
			// nothing of them.
			paused := pods[0]
			deadline := time.Now().Add(time.Minute)
			for paused.owned() < 1 {
				if time.Now().After(deadline) {
					t.Fatalf("%s owns no partition to lose; its log ends:\n%s", paused.Name(), lastLines(infoLines(paused.out.String()), 20))
				}
				time.Sleep(300 * time.Millisecond)
			}
			paused.Signal(syscall.SIGSTOP)
			f.awaitOwned(time.Minute, pods[1:]...)
			resumedAt := len(paused.out.String())
			paused.Signal(syscall.SIGCONT)
			deadline = time.Now().Add(30 * time.Second)
			for {
				after := paused.out.String()[resumedAt:]
				if strings.Contains(after, `"msg":"state partitions released"`) || strings.Contains(after, `"msg":"fenced: state partition taken over by another pod"`) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the resumed pod neither released its partitions nor was fenced; its log ends:\n%s", lastLines(infoLines(paused.out.String()), 30))
				}
				time.Sleep(200 * time.Millisecond)
			}
			f.awaitOwned(time.Minute, pods...)

			// A rolling update (maxSurge 1, maxUnavailable 0): each pod
			// replaced in turn, the new one taking partitions before the old
			// one hands its own over.
			for i := range pods {
				next := f.startPod()
				deadline := time.Now().Add(time.Minute)
				for next.owned() < 1 {
					if time.Now().After(deadline) {
						t.Fatalf("%s took no partition in a minute; its log ends:\n%s", next.Name(), lastLines(infoLines(next.out.String()), 20))
					}
					time.Sleep(300 * time.Millisecond)
				}
				pods[i].stop()
				pods[i] = next
			}
			f.awaitOwned(time.Minute, pods...)

			f.awaitSources(3 * time.Minute)
			for _, p := range pods {
				p.stop()
			}
			f.checkSecrets()
			f.checkKeys()
		})
	}
}

// A pod whose --state-partitions differs from the state topic's partition
// count refuses to start, with one line that says so.
func TestGroupRefusesAnotherPartitionCount(t *testing.T) {
	f := newFleet(t, nil, nil, 10, 0, 0)
	p := f.startPod()
	f.awaitOwned(time.Minute, p)
	p.stop()
	other := f.startPod("--state-partitions", "6")
	if code := other.wait(time.Minute); code != 1 {
		t.Fatalf("exit status %d, want 1", code)
	}
	var lines []string
	for _, l := range strings.Split(other.out.String(), "\n") {
		if strings.Contains(l, "--state-partitions is 6") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], `"msg":"exiting"`) || !strings.Contains(lines[0], "has 12 partitions") {
		t.Fatalf("want one exiting line naming 12 partitions and --state-partitions 6, got %q; log:\n%s", lines, other.out.String())
	}
}

// A state topic written by today's single-source run is read by the new
// version with a sources list and no group: the source named as
// --source-name carries on from its state, and nothing is emitted twice.
func TestSourcesReadASingleSourceState(t *testing.T) {
	w := newWorld(t, worldConfig{history: 120, calls: 60, rate: 10})
	p := w.start(nil)
	p.awaitCommits(5, time.Minute)
	p.stop()
	// The same app; a second source asks a type the simulator does not
	// list, and so emits nothing.
	sources := `[{name: scrm}, {name: other-type, type: voice}]`
	w.finish("single-to-sources", 1, w.start(nil, "--sources", sources))
	if !strings.Contains(w.logs.String(), `"msg":"starting sources"`) {
		t.Error("the second pod did not run the sources list")
	}
}

// TestGroupBrokerRestart runs 3 pods of one group against `callstream
// broker --data-dir` in a child process and kills and restarts the broker
// while they run. Pods ride it out or exit and are restarted, as the
// kubelet would; every source's output stays exactly once.
func TestGroupBrokerRestart(t *testing.T) {
	b := startBrokerProc(t)
	f := newFleet(t, nil, []string{b.addr}, 40, 30, 2)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, seed))
	cycles := crashCycles(t, 2)
	var sups []*supervisor
	for range 3 {
		sups = append(sups, f.supervise(nil, "--config", f.config))
	}
	f.awaitOwned(time.Minute, sups[0].current(), sups[1].current(), sups[2].current())
	for range cycles {
		time.Sleep(time.Duration(500+rng.IntN(3000)) * time.Millisecond)
		b.restart(time.Duration(200+rng.IntN(1500)) * time.Millisecond)
	}
	f.awaitSources(3 * time.Minute)
	var exits []int
	for _, s := range sups {
		exits = append(exits, s.restarts()...)
		s.release().stop()
	}
	t.Logf("broker killed %d times; pods' exits %v; seed %d", b.kills, exits, seed)
	f.checkSecrets()
	f.checkKeys()
}
