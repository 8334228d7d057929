package check

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/simulator"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Await gives up when ctx ends, with the last report saying what is
// missing; Settled tells finished conversions from those in progress.
func TestAwaitReportsWhatNeverArrived(t *testing.T) {
	sim, err := simulator.New(simulator.Config{AppID: "a", AppKey: "k", Seed: 3, History: 4, HistorySpan: time.Hour, ConvertAfter: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	target := Target{SimURL: srv.URL, Kafka: []kgo.Opt{kgo.SeedBrokers(cluster.ListenAddrs()...)}}
	r, _, err := Await(ctx, target, Want{Calls: 4, Settled: true}, 100*time.Millisecond)
	if err == nil || r.OK() || r.Lost != 4 {
		t.Fatalf("Await on an empty output = %v, report %s; want an error with 4 calls lost", err, r)
	}
	if !strings.Contains(err.Error(), "4 lost") {
		t.Errorf("error %q does not carry the last report", err)
	}
	truth, err := FetchTruth(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if !Settled(truth) {
		t.Error("history older than ConvertAfter reads as in progress")
	}
}
