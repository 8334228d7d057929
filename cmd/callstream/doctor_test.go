package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/doctor"
	"github.com/callstream/callstream/schemas"
	"github.com/callstream/callstream/secret"
	"github.com/callstream/callstream/simulator"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

const (
	doctorAppID  = "doctor-app"
	doctorAppKey = secret.String("doctor-app-key-0123456789")
)

// doctorWorld is what doctor is pointed at: the in-process simulator, a
// kfake broker and an srfake registry.
type doctorWorld struct {
	api     *httptest.Server
	cluster *kfake.Cluster
	reg     *srfake.Registry
}

// newDoctorWorld starts the three; sim changes the simulator's config
// before it starts.
func newDoctorWorld(t *testing.T, sim func(*simulator.Config)) *doctorWorld {
	t.Helper()
	cfg := simulator.Config{AppID: doctorAppID, AppKey: doctorAppKey, Seed: 13, History: 30, HistorySpan: 2 * time.Hour,
		ConvertAfter: time.Minute, FailRatio: 0.2}
	if sim != nil {
		sim(&cfg)
	}
	s, err := simulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := &doctorWorld{api: httptest.NewServer(s.Handler())}
	t.Cleanup(w.api.Close)
	if w.cluster, err = kfake.NewCluster(kfake.NumBrokers(1)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.cluster.Close)
	w.reg = srfake.New()
	t.Cleanup(w.reg.Close)
	return w
}

// args are the right settings for w, then extra, later ones winning.
func (w *doctorWorld) args(extra ...string) []string {
	return append([]string{"--api-url", w.api.URL, "--app-id", doctorAppID, "--app-key", doctorAppKey.Reveal(),
		"--type", "chat", "--brokers", w.cluster.ListenAddrs()[0], "--schema-registry-url", w.reg.URL()}, extra...)
}

// runDoctor runs doctor with --format json and returns its exit status and
// report.
func runDoctor(t *testing.T, args []string) (int, doctor.Report, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := cmdDoctor(ctx, append(args, "--format", "json"), &stdout, &stderr)
	var rep doctor.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("doctor %q: exit %d, stdout not one JSON object (%v): %s; stderr %s", args, code, err, stdout.String(), stderr.String())
	}
	return code, rep, stdout.String()
}

var allDoctorChecks = []string{doctor.APIReach, doctor.APIClock, doctor.APIAuth, doctor.APIType, doctor.APIPageSize, doctor.APIDecode,
	doctor.APIChanges, doctor.KafkaReach, doctor.KafkaTransactions, doctor.KafkaTopics, doctor.Registry}

// Each wrong setting makes exactly its check fail, with a hint naming the
// fix; the checks that need it are skipped, every other one passes. The
// right settings pass everything and leave the broker and the registry as
// they were.
func TestDoctor(t *testing.T) {
	const otherSign = "sha256:timestamp+appId+appKey:upper:s"
	older := incompatibleCallEvent(t)
	for _, tc := range []struct {
		name  string
		sim   func(*simulator.Config)
		setup func(t *testing.T, w *doctorWorld)
		extra func(w *doctorWorld) []string
		fails string   // the check that fails; empty: none
		hint  string   // part of its hint
		skips []string // checks skipped after it
	}{
		{name: "right settings"},
		{name: "app key", extra: func(*doctorWorld) []string { return []string{"--app-key", "not-the-key"} },
			fails: doctor.APIAuth, hint: "--app-key", skips: []string{doctor.APIType, doctor.APIPageSize, doctor.APIDecode, doctor.APIChanges}},
		{name: "sign recipe", sim: func(c *simulator.Config) { c.Sign = otherSign },
			fails: doctor.APIAuth, hint: "set --sign " + otherSign},
		{name: "type", extra: func(*doctorWorld) []string { return []string{"--type", "call"} },
			fails: doctor.APIType, hint: "set --type chat"},
		{name: "page size above the cap", sim: func(c *simulator.Config) { c.MaxPageSize = 20 },
			extra: func(*doctorWorld) []string { return []string{"--page-size", "100"} },
			fails: doctor.APIPageSize, hint: "set --page-size 20"},
		{name: "page size capped silently", sim: func(c *simulator.Config) { c.FaultSpec.PageCap, c.History = 40, 150 },
			extra: func(*doctorWorld) []string { return []string{"--page-size", "100"} },
			fails: doctor.APIPageSize, hint: "set --page-size 40"},
		{name: "clock 90s off", sim: func(c *simulator.Config) { c.Clock = func() time.Time { return time.Now().Add(90 * time.Second) } },
			fails: doctor.APIClock, hint: "NTP"},
		{name: "clock 90s off, timestamps refused", sim: func(c *simulator.Config) { c.FaultSpec.Skew = 90 * time.Second },
			fails: doctor.APIClock, hint: "NTP"},
		{name: "unreachable broker", extra: func(*doctorWorld) []string { return []string{"--brokers", closedAddr(t)} },
			fails: doctor.KafkaReach, hint: "--brokers", skips: []string{doctor.KafkaTransactions, doctor.KafkaTopics}},
		{name: "state topic not compacted", setup: createDeleteTopic("callstream.state"),
			fails: doctor.KafkaTopics, hint: "cleanup.policy=compact"},
		{name: "state topic compacts and deletes", setup: createPolicyTopic("callstream.state", "compact,delete"),
			fails: doctor.KafkaTopics, hint: "--add-config cleanup.policy=compact"},
		{name: "transaction timeout over the brokers' limit", extra: func(*doctorWorld) []string { return []string{"--transaction-timeout", "20m"} },
			fails: doctor.KafkaTransactions, hint: "set --transaction-timeout to 15m0s or less"},
		{name: "incompatible registry subject",
			setup: func(_ *testing.T, w *doctorWorld) {
				w.reg.SeedSchema("calls-value", 1, 1, sr.Schema{Schema: older, Type: sr.TypeAvro})
			},
			fails: doctor.Registry, hint: "--schema-compatibility"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newDoctorWorld(t, tc.sim)
			if tc.setup != nil {
				tc.setup(t, w)
			}
			var extra []string
			if tc.extra != nil {
				extra = tc.extra(w)
			}
			code, rep, out := runDoctor(t, w.args(extra...))
			wantCode := 1
			if tc.fails == "" {
				wantCode = 0
			}
			if code != wantCode || rep.OK != (tc.fails == "") {
				t.Errorf("exit %d, ok %v; want exit %d", code, rep.OK, wantCode)
			}
			var names []string
			for _, c := range rep.Checks {
				names = append(names, c.Name)
				switch {
				case c.Name == tc.fails:
					if c.OK || c.Skipped || !strings.Contains(c.Hint, tc.hint) {
						t.Errorf("%s: ok %v, skipped %v, hint %q; want it failed with a hint naming %q", c.Name, c.OK, c.Skipped, c.Hint, tc.hint)
					}
				case slices.Contains(tc.skips, c.Name):
					if c.OK || !c.Skipped || !strings.Contains(c.Hint, tc.fails) {
						t.Errorf("%s: ok %v, skipped %v, hint %q; want it skipped after %s", c.Name, c.OK, c.Skipped, c.Hint, tc.fails)
					}
				case !c.OK:
					t.Errorf("%s failed: %s (hint %q); only %q should", c.Name, c.Detail, c.Hint, tc.fails)
				}
			}
			if !slices.Equal(names, allDoctorChecks) {
				t.Errorf("checks %q, want %q", names, allDoctorChecks)
			}
			if t.Failed() {
				t.Logf("report:\n%s", out)
			}
			if tc.fails == "" {
				assertNothingWritten(t, w)
			}
		})
	}
}

// admin returns an admin client of w's cluster and a context bounding its
// calls, both ended with the test.
func (w *doctorWorld) admin(t *testing.T) (*kadm.Client, context.Context) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(w.cluster.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return kadm.NewClient(cl), ctx
}

// assertNothingWritten checks that the cluster holds no topic of ours and
// the registry no subject.
func assertNothingWritten(t *testing.T, w *doctorWorld) {
	t.Helper()
	adm, ctx := w.admin(t)
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if names := topics.Names(); len(names) > 0 {
		t.Errorf("doctor left topics %q", names)
	}
	for _, s := range []string{"calls-value", "calls.failed-value", "calls.dlq-value", "calls.latest-value"} {
		if w.reg.SubjectExists(s) {
			t.Errorf("doctor registered subject %s", s)
		}
	}
}

// createDeleteTopic creates topic with cleanup.policy=delete.
func createDeleteTopic(topic string) func(*testing.T, *doctorWorld) {
	return createPolicyTopic(topic, "delete")
}

// createPolicyTopic creates topic with the cleanup.policy given.
func createPolicyTopic(topic, policy string) func(*testing.T, *doctorWorld) {
	return func(t *testing.T, w *doctorWorld) {
		t.Helper()
		adm, ctx := w.admin(t)
		resp, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"cleanup.policy": &policy}, topic)
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// incompatibleCallEvent is an event schema of eventId alone: ours cannot
// read its data (our other fields have no defaults), so it is not
// BACKWARD compatible.
func incompatibleCallEvent(t *testing.T) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(schemas.CallEvent().Text()), &m); err != nil {
		t.Fatal(err)
	}
	m["fields"] = m["fields"].([]any)[:1]
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// closedAddr is a loopback address that nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Usage errors are exit 2 with one line naming the setting; the text
// output is a line per check and a summary.
func TestDoctorUsageAndText(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--format", "yaml", "--api-url", "http://x", "--app-id", "a", "--app-key", "k", "--brokers", "b:1"}, "--format"},
		{[]string{"--api-url", "http://x", "--app-id", "a", "--app-key", "k"}, "--brokers"},
		{[]string{"--sign", "md7", "--api-url", "http://x", "--app-id", "a", "--app-key", "k", "--brokers", "b:1"}, "--sign"},
	} {
		var stdout, stderr bytes.Buffer
		code := cmdDoctor(context.Background(), tc.args, &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), tc.want) || strings.Count(stderr.String(), "\n") != 1 || stdout.Len() != 0 {
			t.Errorf("doctor %q: exit %d, stderr %q, stdout %q; want 2 and one line naming %s", tc.args, code, stderr.String(), stdout.String(), tc.want)
		}
	}

	w := newDoctorWorld(t, nil)
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if code := cmdDoctor(ctx, w.args("--type", "call"), &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1; stdout %s stderr %s", code, stdout.String(), stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	var marks []string
	for _, l := range lines {
		if strings.HasPrefix(l, "✔ ") || strings.HasPrefix(l, "✘ ") {
			marks = append(marks, l)
		}
	}
	if len(marks) != len(allDoctorChecks) {
		t.Errorf("%d lines with a mark, want %d:\n%s", len(marks), len(allDoctorChecks), stdout.String())
	}
	for i, l := range lines {
		if strings.HasPrefix(l, "✘ api.type") && (i+1 >= len(lines) || !strings.Contains(lines[i+1], "→ set --type chat")) {
			t.Errorf("no hint under the failed api.type:\n%s", stdout.String())
		}
	}
	if last := lines[len(lines)-1]; last != "1 of "+strconv.Itoa(len(allDoctorChecks))+" checks failed" {
		t.Errorf("summary %q", last)
	}
}

// With several sources, doctor checks the API once for each, naming the
// source, and Kafka and the registry once: a wrong type of one source fails
// that source's api.type only.
func TestDoctorSources(t *testing.T) {
	w := newDoctorWorld(t, nil)
	sources := `[{name: good, type: chat}, {name: wrong, type: call}]`
	code, rep, out := runDoctor(t, w.args("--sources", sources))
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, out)
	}
	failed := map[string]string{}
	apiChecks := map[string]int{}
	for _, c := range rep.Checks {
		if strings.HasPrefix(c.Name, "api.") {
			apiChecks[c.Source]++
		} else if c.Source != "" {
			t.Errorf("check %s names source %q; only api checks are per source", c.Name, c.Source)
		}
		if !c.OK {
			failed[c.Name] = c.Source
		}
	}
	if len(failed) != 1 || failed[doctor.APIType] != "wrong" {
		t.Errorf("failed checks %v, want only api.type of source wrong: %s", failed, out)
	}
	if apiChecks["good"] == 0 || apiChecks["good"] != apiChecks["wrong"] {
		t.Errorf("api checks per source %v, want the same for both", apiChecks)
	}
	var text bytes.Buffer
	cmdDoctor(t.Context(), w.args("--sources", sources), &text, io.Discard)
	if !strings.Contains(text.String(), "✘ api.type [wrong]") {
		t.Errorf("text output does not name the source of the failed check:\n%s", text.String())
	}
}
