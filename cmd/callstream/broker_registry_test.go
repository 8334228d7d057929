package main

import (
	"context"
	"io"
	"net"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/callstream/callstream/check"
	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/connector/registry"
	"github.com/callstream/callstream/internal/syncbuf"
	"github.com/callstream/callstream/secret"
	"github.com/callstream/callstream/simulator"
	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
)

// TestBrokerRegistry runs the local stack of the README: `callstream broker
// --registry-listen`, in process, and the connector with
// --schema-registry-url pointing at it, against a simulator with broken
// records. Then it reads the output as a Confluent deserializer does,
// sharing no code with ours: franz-go's sr.ConfluentHeader takes the
// framing apart, sr.Client fetches the writer schema by id from the
// registry's REST API, and goavro decodes the datum.
func TestBrokerRegistry(t *testing.T) {
	brokerAddr, regAddr := loopbackAddr(t), loopbackAddr(t)
	regURL := "http://" + regAddr
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var brokerLog syncbuf.Buffer
	brokerDone := make(chan int, 1)
	go func() {
		brokerDone <- cmdBroker(ctx, []string{"--listen", brokerAddr, "--registry-listen", regAddr}, io.Discard, &brokerLog)
	}()
	defer func() {
		cancel()
		if code := <-brokerDone; code != 0 {
			t.Errorf("broker exit %d after cancellation, want 0; log:\n%s", code, brokerLog.String())
		}
	}()
	for _, addr := range []string{brokerAddr, regAddr} {
		awaitTCP(t, addr)
	}

	const appKey = secret.String("registry-test-key")
	const calls = 30
	sim, err := simulator.New(simulator.Config{
		AppID: "reg-app", AppKey: appKey, Seed: 15, History: calls, HistorySpan: time.Hour,
		ConvertAfter: time.Second, FailRatio: 0.3, FaultSpec: simulator.FaultSpec{BrokenJSON: 0.1},
	})
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(sim.Handler())
	defer api.Close()

	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	var logs syncbuf.Buffer
	runDone := make(chan int, 1)
	go func() {
		runDone <- cmdRun(runCtx, []string{
			"--api-url", api.URL, "--app-id", "reg-app", "--app-key", appKey.Reveal(),
			"--brokers", brokerAddr, "--schema-registry-url", regURL, "--listen", "127.0.0.1:0",
			"--poll-interval", "200ms", "--settle-delay", "1s", "--tiers", "recent=1m@0s,deep=2h@2s",
			"--start-from", "2h", "--backfill-window", "20m", "--log-format", "json",
		}, io.Discard, &logs)
	}()
	rc, err := registry.New(registry.Config{URL: regURL})
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	defer wcancel()
	_, out, err := check.Await(wctx, check.Target{SimURL: api.URL, Kafka: []kgo.Opt{kgo.SeedBrokers(brokerAddr)},
		Decoder: event.NewDecoder(rc.Lookup(wctx))},
		check.Want{Calls: calls, Settled: true, Broken: true, Clean: true}, 300*time.Millisecond)
	stopRun()
	if code := <-runDone; code != 0 || err != nil {
		t.Fatalf("run exit %d, await: %v\nlogs (tail):\n%s", code, err, lastLines(logs.String(), 20))
	}
	if len(out.DeadLetters) == 0 {
		t.Fatal("no dead letters: the seed should break at least one record")
	}

	srCl, err := sr.NewClient(sr.URLs(regURL))
	if err != nil {
		t.Fatal(err)
	}
	subjects, err := srCl.Subjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"calls-value", "calls.failed-value", "calls.dlq-value"} {
		if !slices.Contains(subjects, want) {
			t.Errorf("registry subjects %q lack %q", subjects, want)
		}
	}
	got := readConfluent(t, brokerAddr, srCl, len(out.Events)+len(out.DeadLetters))
	if got.events != len(out.Events) || got.deadLetters != len(out.DeadLetters) {
		t.Errorf("Confluent reader decoded %d events and %d dead letters, want %d and %d",
			got.events, got.deadLetters, len(out.Events), len(out.DeadLetters))
	}
}

// confluentCounts counts what readConfluent decoded.
type confluentCounts struct{ events, deadLetters int }

// readConfluent reads the output topics from the start, read_committed,
// until want values decoded, checking each decoded event against its key.
func readConfluent(t *testing.T, brokers string, srCl *sr.Client, want int) confluentCounts {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	codecs := map[int]*goavro.Codec{}
	codec := func(id int) *goavro.Codec {
		if c, ok := codecs[id]; ok {
			return c
		}
		s, err := srCl.SchemaByID(ctx, id)
		if err != nil {
			t.Fatalf("GET /schemas/ids/%d: %v", id, err)
		}
		c, err := goavro.NewCodec(s.Schema)
		if err != nil {
			t.Fatalf("schema %d: %v", id, err)
		}
		codecs[id] = c
		return c
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.ConsumeTopics("calls", "calls.failed", "calls.dlq"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got confluentCounts
	var header sr.ConfluentHeader
	for got.events+got.deadLetters < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d values of %d in 30s", got.events+got.deadLetters, want)
		}
		fs.EachRecord(func(r *kgo.Record) {
			id, datum, err := header.DecodeID(r.Value)
			if err != nil {
				t.Fatalf("%s@%d: not registry framed (% x): %v", r.Topic, r.Offset, r.Value[:min(len(r.Value), 8)], err)
			}
			native, rest, err := codec(id).NativeFromBinary(datum)
			if err != nil || len(rest) != 0 {
				t.Fatalf("%s@%d: goavro: %v (%d bytes left)", r.Topic, r.Offset, err, len(rest))
			}
			v := native.(map[string]any)
			if r.Topic == "calls.dlq" {
				if reason, _ := v["reason"].(string); reason == "" {
					t.Errorf("%s@%d: dead letter without a reason: %v", r.Topic, r.Offset, v)
				}
				got.deadLetters++
				return
			}
			checkConfluentEvent(t, r, v)
			got.events++
		})
	}
	return got
}

// checkConfluentEvent checks a decoded event against its record: the key
// is the call id in decimal, a STATUS_CHANGED names its previous status.
func checkConfluentEvent(t *testing.T, r *kgo.Record, v map[string]any) {
	t.Helper()
	call, _ := v["call"].(map[string]any)
	id, _ := call["id"].(int64)
	if string(r.Key) != strconv.FormatInt(id, 10) {
		t.Errorf("%s@%d: key %q, call id %d", r.Topic, r.Offset, r.Key, id)
	}
	kind, _ := v["kind"].(string)
	prev := v["previousStatus"]
	switch {
	case kind == "CREATED" && prev != nil, kind == "STATUS_CHANGED" && prev == nil,
		kind != "CREATED" && kind != "STATUS_CHANGED":
		t.Errorf("%s@%d: kind %q with previousStatus %v", r.Topic, r.Offset, kind, prev)
	}
}

// awaitTCP waits up to 10 s until addr accepts connections.
func awaitTCP(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not accept connections: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
