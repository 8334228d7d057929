package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/callstream/callstream/check"
	"github.com/callstream/callstream/connector/source"
	"github.com/callstream/callstream/internal/proc"
	"github.com/callstream/callstream/internal/syncbuf"
	"github.com/callstream/callstream/simulator"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kversion"
)

// The reliability harness: a world is one scenario (the vendor simulator,
// a Kafka broker, connector pods as child processes), and each test breaks
// something in it and then checks the read_committed output against the
// simulator's truth with check.Compare.

// protocol is a Kafka transaction protocol the broker speaks.
type protocol struct {
	name string
	opts []kfake.Opt
}

// protocols are KIP-890 (kfake's default, transaction version 2) and the
// classic protocol, with the broker limited to Kafka 3.6 request versions.
var protocols = []protocol{
	{"kip890", nil},
	{"classic", []kfake.Opt{kfake.MaxVersions(kversion.V3_6_0())}},
}

// longRun reports whether CALLSTREAM_RELIABILITY_LONG asks for the long
// versions of the reliability scenarios.
func longRun() bool { return os.Getenv("CALLSTREAM_RELIABILITY_LONG") != "" }

// worldConfig sizes a world. Zero fields take small defaults.
type worldConfig struct {
	history, calls int
	rate           float64
	kafka          []kfake.Opt // options of the in-process broker
	brokers        []string    // an outside broker instead of an in-process one
	faults         string      // API faults, as simulate --faults takes them
	args           []string    // run's flags for every pod, after crashArgs
}

// world is the scenario every pod of one test runs against.
type world struct {
	t       *testing.T
	sim     *simulator.Simulator
	srv     *httptest.Server
	cluster *kfake.Cluster // nil with an outside broker
	brokers []string
	calls   int            // calls the truth holds once all have arrived
	large   bool           // the simulator makes large transcripts
	args    []string       // worldConfig.args
	logs    syncbuf.Buffer // every pod's output
	scrapes syncbuf.Buffer // every /metrics scrape
	mu      sync.Mutex
	signs   map[string]bool // every sign the simulator was sent
	pods    int
}

func newWorld(t *testing.T, cfg worldConfig) *world {
	t.Helper()
	if testing.Short() {
		t.Skip("reliability scenarios run connector processes for seconds")
	}
	if cfg.history == 0 {
		cfg.history, cfg.calls, cfg.rate = 300, 100, 20
	}
	w := &world{t: t, calls: cfg.history + cfg.calls, signs: map[string]bool{}, brokers: cfg.brokers, args: cfg.args}
	if w.brokers == nil {
		c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.DefaultNumPartitions(3)}, cfg.kafka...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		w.cluster, w.brokers = c, c.ListenAddrs()
	}
	faults, err := simulator.ParseFaults(cfg.faults)
	if err != nil {
		t.Fatal(err)
	}
	sim, err := simulator.New(simulator.Config{
		AppID: crashAppID, AppKey: crashAppKey, Seed: 42,
		History: cfg.history, HistorySpan: 2 * time.Hour, Calls: cfg.calls, Rate: cfg.rate,
		ConvertAfter: 2 * time.Second, FailRatio: 0.25, FaultSpec: faults,
		Types: []string{source.DefaultType}, // what `run` asks without --type
	})
	if err != nil {
		t.Fatal(err)
	}
	w.sim, w.large = sim, faults.LargeEvery > 0
	w.serve(sim.Handler())
	return w
}

// serve serves the vendor API through h on w.srv, noting every sign it is
// sent (the secret-leak checks look for them in the pods' output), and
// saves the pods' logs at the end of the test.
func (w *world) serve(h http.Handler) {
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if s := r.Header.Get("sign"); s != "" {
			w.mu.Lock()
			w.signs[s] = true
			w.mu.Unlock()
		}
		h.ServeHTTP(rw, r)
	}))
	w.t.Cleanup(w.srv.Close)
	w.t.Cleanup(w.saveLogs)
}

// saveLogs writes every pod's output to $CALLSTREAM_RELIABILITY_LOGDIR,
// when set, one file per test.
func (w *world) saveLogs() {
	dir := os.Getenv("CALLSTREAM_RELIABILITY_LOGDIR")
	if dir == "" {
		return
	}
	name := filepath.Join(dir, strings.ReplaceAll(w.t.Name(), "/", "_")+".log")
	if err := os.WriteFile(name, []byte(w.logs.String()), 0o644); err != nil {
		w.t.Errorf("saving the pods' logs: %v", err)
	}
}

// pod is one `callstream run` child process.
type pod struct {
	*proc.Process
	w      *world
	listen string
	out    *syncbuf.Buffer
}

// start starts a pod with the world's settings, extra arguments after
// them and extra environment variables.
func (w *world) start(env []string, extra ...string) *pod {
	w.t.Helper()
	w.mu.Lock()
	w.pods++
	name := fmt.Sprintf("pod-%d", w.pods)
	w.mu.Unlock()
	p := &pod{w: w, listen: loopbackAddr(w.t), out: &syncbuf.Buffer{}}
	args := append(append(crashArgs(w.srv.URL, w.brokers), w.args...), extra...)
	for i, a := range args {
		if a == "--listen" {
			args[i+1] = p.listen
		}
	}
	var err error
	p.Process, err = proc.Start(proc.Command{
		Name: name, Path: os.Args[0], Args: append([]string{"run"}, args...),
		Env:    append([]string{asMainEnv + "=1", "CALLSTREAM_APP_KEY=" + crashAppKey.Reveal()}, env...),
		Output: io.MultiWriter(p.out, &w.logs),
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

// loopbackAddr returns a loopback address with a port free right now.
func loopbackAddr(t *testing.T) string {
	t.Helper()
	addr, err := proc.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// wait waits up to d for the pod to end and returns its exit status, -1
// when a signal ended it. A pod still running after d is a hang: the test
// fails, with the pod's last lines.
func (p *pod) wait(d time.Duration) int {
	p.w.t.Helper()
	code, err := p.Wait(d)
	if err != nil {
		p.w.t.Fatalf("%v; its log ends:\n%s", err, lastLines(p.out.String(), 30))
	}
	return code
}

// stop waits until the pod listens on its HTTP address (a pod signalled
// before it handles signals would die of SIGTERM, as any Go program does,
// and it listens only after), scrapes its metrics, sends SIGTERM and
// requires exit status 0 within a minute.
func (p *pod) stop() {
	p.w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.AwaitListening(ctx, p.listen); err != nil && !p.Exited() {
		p.w.t.Fatalf("%v; its log ends:\n%s", err, lastLines(p.out.String(), 20))
	}
	p.scrape()
	p.Signal(syscall.SIGTERM)
	if code := p.wait(time.Minute); code != 0 {
		p.w.t.Errorf("%s: exit status %d after SIGTERM, want 0; its log ends:\n%s", p.Name(), code, lastLines(p.out.String(), 20))
	}
}

// scrape adds the pod's /metrics page to the world's scrapes; a pod that
// does not answer adds nothing.
func (p *pod) scrape() {
	cl := http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Get("http://" + p.listen + "/metrics")
	if err != nil {
		return
	}
	defer resp.Body.Close()
	_, _ = io.Copy(&p.w.scrapes, resp.Body)
}

// commits counts the windows the pod committed so far.
func (p *pod) commits() int { return strings.Count(p.out.String(), `"msg":"window committed"`) }

// awaitCommits waits until the pod committed n windows more than it had
// at the call, or fails the test after d or when the pod ends.
func (p *pod) awaitCommits(n int, d time.Duration) {
	p.w.t.Helper()
	want := p.commits() + n
	deadline := time.After(d)
	for p.commits() < want {
		select {
		case <-p.Done():
			p.w.t.Fatalf("%s exited (status %d) before committing %d windows; its log ends:\n%s",
				p.Name(), p.ExitCode(), n, lastLines(p.out.String(), 20))
		case <-deadline:
			p.w.t.Fatalf("%s committed no %d windows in %s; its log ends:\n%s", p.Name(), n, d, lastLines(p.out.String(), 20))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// finish waits until the output matches the truth with p running, stops p
// (exit status 0 wanted), checks that no secret leaked, and logs the
// figures of the row.
func (w *world) finish(row string, cycles int, p *pod) check.Report {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	// A simulator with large transcripts has calls whose events no topic
	// takes at kfake's default limits: the dead-letter topic names them.
	report, err := awaitTruth(ctx, w.srv.URL, w.brokers, check.Want{Calls: w.calls, Large: w.large})
	w.t.Logf("output matched the truth after %s", time.Since(start).Round(time.Millisecond))
	p.stop()
	if err != nil {
		w.t.Fatalf("%s: %v\nlogs (tail):\n%s", row, err, lastLines(w.logs.String(), 40))
	}
	w.checkSecrets()
	w.t.Logf("row %s: %d cycles, %d records, %d lost, %d duplicated", row, cycles, report.Events, report.Lost, report.Duplicated)
	return report
}

// oftenCommitted are run's flags for a scenario that needs transactions
// while its world is idle (a crash at a step of the commit, a Kafka answer
// lost or refused): the checkpoints of empty windows commit every half
// second instead of every minute, still deferred and carried together.
var oftenCommitted = []string{"--checkpoint-delay", "500ms"}

// killAtRandom starts a pod and kills it with SIGKILL 0.5–3 s later, after
// a scrape, cycles times, then checks the output of a last pod against the
// truth as row: the faults scenarios' run.
func (w *world) killAtRandom(row string, cycles int) check.Report {
	w.t.Helper()
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, seed))
	for range cycles {
		p := w.start(nil)
		time.Sleep(time.Duration(500+rng.IntN(2500)) * time.Millisecond)
		p.scrape()
		p.Kill()
	}
	w.t.Logf("%d kills, seed %d", cycles, seed)
	return w.finish(row, cycles, w.start(nil))
}
