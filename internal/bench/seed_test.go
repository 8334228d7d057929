package bench

import (
	"context"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/connector/state"
	"github.com/callstream/callstream/internal/committed"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The seeded state topic loads into a state.Store as the connector loads
// it at its start: every call, settled and emitted, inside the last hour.
func TestSeedStateLoads(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(3))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	now := time.Now()
	const n = 1234
	if err := seedState(ctx, c.ListenAddrs()[0], n, now); err != nil {
		t.Fatal(err)
	}
	st := state.New()
	read := committed.Options{Topics: []string{sink.DefaultTopics().State}, FromStart: true, ToEnd: true}
	if err := committed.Read(ctx, []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}, read, func(r *kgo.Record) error {
		return st.Load(r.Key, r.Value)
	}); err != nil {
		t.Fatal(err)
	}
	if st.Len() != n {
		t.Fatalf("loaded %d calls; want %d", st.Len(), n)
	}
	for _, i := range []int64{0, n - 1} {
		e, ok := st.Get(seedFirstID + i)
		if !ok || !e.Has(state.Emitted) || e.Status != 2 || e.Created > now.Unix() || e.Created < now.Unix()-3600 {
			t.Errorf("call %d: %+v, %v; want it emitted, settled, created within the hour", i, e, ok)
		}
	}
}
