package connector

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/callstream/callstream/connector/calllist"
	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/internal/cputime"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The benchmarks of this file measure each part of the hot path alone, on
// the same simulated calls, in CPU µs per record (getrusage): their sum is
// what the whole pipeline should cost. Run them with
//
//	go test -run '^$' -bench . -benchtime 20x ./connector/
const benchCalls = 10_000

// perRecord runs fn over n records round robin, one record an op.
func perRecord(b *testing.B, n int, fn func(i int) error) {
	b.ReportAllocs()
	m := cputime.Start()
	done := 0
	for b.Loop() {
		if err := fn(done % n); err != nil {
			b.Fatal(err)
		}
		done++
	}
	m.Report(b, done)
}

// BenchmarkParts measures each step of one record's way alone.
func BenchmarkParts(b *testing.B) {
	bodies, raws := simPages(b, benchCalls)
	calls := make([]*event.Call, len(raws))
	for i, raw := range raws {
		rec, err := calllist.DecodeCall(raw.JSON)
		if err != nil {
			b.Fatal(err)
		}
		calls[i] = rec.Call
	}
	b.Run("page-read", func(b *testing.B) { benchPageRead(b, bodies) })
	b.Run("page-slice", func(b *testing.B) {
		// DecodePage per page, reported per record: the id, hash and
		// bytes of every record of a page in one pass.
		b.ReportAllocs()
		m := cputime.Start()
		records, page := 0, 0
		for b.Loop() {
			p, err := calllist.DecodePage(bodies[page%len(bodies)])
			if err != nil {
				b.Fatal(err)
			}
			records += len(p.Records)
			page++
		}
		m.Report(b, records)
	})
	b.Run("decode-call", func(b *testing.B) {
		perRecord(b, len(raws), func(i int) error {
			_, err := calllist.DecodeCall(raws[i].JSON)
			return err
		})
	})
	enc := event.NewEncoder()
	var buf []byte
	b.Run("avro-encode", func(b *testing.B) {
		perRecord(b, len(raws), func(i int) error {
			var err error
			buf, err = enc.AppendEvent(buf[:0], &event.Event{EventID: "0123456789abcdef0123456789abcdef", Kind: event.Created, Call: calls[i]})
			return err
		})
	})
}

// benchPageRead fetches pages over HTTP from a server that answers
// prepared bodies, so that the server's share of the CPU is small.
func benchPageRead(b *testing.B, bodies [][]byte) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			PageNo int `json:"pageNo"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.PageNo < 1 || req.PageNo > len(bodies) {
			http.Error(w, "bad page", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(bodies[req.PageNo-1])
	}))
	defer srv.Close()
	c := benchConnector(b, srv.URL, []string{"127.0.0.1:1"})
	w := backfillTask().Window
	b.ReportAllocs()
	m := cputime.Start()
	records, page := 0, 0
	for b.Loop() {
		p, err := c.src.FetchPage(context.Background(), w, page%len(bodies)+1)
		if err != nil {
			b.Fatal(err)
		}
		records += len(p.Records)
		page++
	}
	m.Report(b, records)
}

// BenchmarkDiff diffs windows of a thousand records against the state:
// calls never seen (each becomes a CREATED event, encoded), and a re-scan
// of the same bytes (each skipped unparsed).
func BenchmarkDiff(b *testing.B) {
	_, raws := simPages(b, benchCalls)
	windows := make([][]calllist.Raw, 0, len(raws)/benchPageSize)
	for i := 0; i < len(raws); i += benchPageSize {
		windows = append(windows, raws[i:min(i+benchPageSize, len(raws))])
	}
	task := backfillTask()
	for _, tc := range []struct {
		name  string
		known bool
	}{{"new", false}, {"unchanged", true}} {
		b.Run(tc.name, func(b *testing.B) {
			c := benchConnector(b, "http://127.0.0.1:1", []string{"127.0.0.1:1"})
			if tc.known {
				for _, w := range windows {
					bt := &batch{state: c.store.NewBatch()}
					c.diff(bt, task, w, 0)
					bt.state.Apply()
				}
			}
			b.ReportAllocs()
			m := cputime.Start()
			records, n := 0, 0
			for b.Loop() {
				bt := &batch{state: c.store.NewBatch()}
				c.diff(bt, task, windows[n%len(windows)], 0)
				if bt.Err != nil || (tc.known && bt.Skipped != bt.Read) || (!tc.known && len(bt.Events) != bt.Read) {
					b.Fatalf("diff: err %v, %d read, %d skipped, %d events", bt.Err, bt.Read, bt.Skipped, len(bt.Events))
				}
				records += bt.Read
				n++
			}
			m.Report(b, records)
		})
	}
}

// BenchmarkProduce commits transactions as the connector builds them for a
// backfill window of a thousand new calls (events, state records and a
// checkpoint) to a kfake broker in a child process.
func BenchmarkProduce(b *testing.B) {
	_, raws := simPages(b, benchPageSize)
	brokers := childBroker(b)
	c := benchConnector(b, "http://127.0.0.1:1", brokers)
	ctx := context.Background()
	sk, err := sink.New(ctx, sink.Config{
		TransactionalID: "bench-produce", Topics: c.cfg.Topics, CreateTopics: true, Partitions: 3,
		ClientOpts: []kgo.Opt{kgo.SeedBrokers(brokers...)},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer sk.Close()
	c.sink = sk
	bt := &batch{state: c.store.NewBatch()}
	c.diff(bt, backfillTask(), raws, 0)
	name, v := backfillTask().Checkpoint()
	bt.state.SetCheckpoint(name, v)
	proto := bt.Records
	bt.state.Records(func(k, v []byte) {
		proto = append(proto, &kgo.Record{Topic: c.cfg.Topics.State, Key: k, Value: v})
	})
	b.ReportAllocs()
	m := cputime.Start()
	records := 0
	for b.Loop() {
		recs := make([]*kgo.Record, len(proto))
		for i, r := range proto {
			recs[i] = &kgo.Record{Topic: r.Topic, Key: r.Key, Value: r.Value}
		}
		if err := sk.Commit(ctx, recs); err != nil {
			b.Fatal(err)
		}
		records += bt.Read
	}
	m.Report(b, records)
	b.ReportMetric(float64(len(proto))/float64(bt.Read), "kafka-records/record")
}
