package devbroker

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestStartRefusesABadAddress(t *testing.T) {
	for _, addr := range []string{"nohost", "127.0.0.1:http"} {
		_, err := Start(t.Context(), Options{Listen: addr})
		var le *ListenError
		if !errors.As(err, &le) {
			t.Errorf("Start(%q) = %v; want a *ListenError", addr, err)
		}
	}
}

// A broker on a data directory keeps what was committed across a restart,
// and the repair at the second start finds nothing to close in a log that
// was closed cleanly.
func TestDataDirSurvivesARestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	c, err := Start(ctx, Options{DataDir: dir, Partitions: 1})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.TransactionalID("devbroker-test"),
		kgo.DefaultProduceTopic("t"), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, kgo.StringRecord("kept")).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	c.Close()

	if n, err := Repair(ctx, dir, nil); err != nil || n != 0 {
		t.Fatalf("Repair of a cleanly closed log = %d, %v; want 0, nil", n, err)
	}
	c, err = Start(ctx, Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rd, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("t"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	fetches := rd.PollFetches(ctx)
	if err := fetches.Err0(); err != nil {
		t.Fatal(err)
	}
	if rs := fetches.Records(); len(rs) != 1 || string(rs[0].Value) != "kept" {
		t.Fatalf("after the restart read %d records; want the one committed", len(rs))
	}
}

func TestRegistryServesTheSchemaAPI(t *testing.T) {
	r, err := StartRegistry("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !strings.HasPrefix(r.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL = %q", r.URL())
	}
	resp, err := http.Get(r.URL() + "/subjects")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /subjects: %s", resp.Status)
	}
}
