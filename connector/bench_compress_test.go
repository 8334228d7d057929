package connector

import (
	"bytes"
	"testing"

	"github.com/callstream/callstream/internal/cputime"
	"github.com/klauspost/compress/zstd"
	"github.com/twmb/franz-go/pkg/kgo"
)

// BenchmarkCompression compresses the records of a backfill window, by
// topic, in batches of 100 records (what a partition's batch holds at the
// default page size), with each codec the producer offers: the CPU a record
// costs against the bytes it saves on the wire.
func BenchmarkCompression(b *testing.B) {
	_, raws := simPages(b, benchPageSize)
	c := benchConnector(b, "http://127.0.0.1:1", []string{"127.0.0.1:1"})
	bt := &batch{state: c.store.NewBatch()}
	c.diff(bt, backfillTask(), raws, 0)
	recs := appendStateRecords(bt.Records, c.cfg.Topics.State, c.keys, bt.state)
	byTopic := map[string][][]byte{}
	counts := map[string][]int{}
	for _, r := range recs {
		batches := byTopic[r.Topic]
		if len(batches) == 0 || counts[r.Topic][len(batches)-1] == 100 {
			batches = append(batches, nil)
			counts[r.Topic] = append(counts[r.Topic], 0)
		}
		batches[len(batches)-1] = append(append(batches[len(batches)-1], r.Key...), r.Value...)
		counts[r.Topic][len(batches)-1]++
		byTopic[r.Topic] = batches
	}
	codecs := []struct {
		name  string
		codec kgo.CompressionCodec
	}{
		{"zstd", kgo.ZstdCompression()},
		{"zstd-fastest", kgo.ZstdCompression().WithLevel(int(zstd.SpeedFastest))},
		{"lz4", kgo.Lz4Compression()},
		{"snappy", kgo.SnappyCompression()},
	}
	for _, tc := range codecs {
		for topic, batches := range byTopic {
			b.Run(tc.name+"/"+topic, func(b *testing.B) {
				comp, err := kgo.DefaultCompressor(tc.codec)
				if err != nil {
					b.Fatal(err)
				}
				var buf bytes.Buffer
				var raw, wire, records int
				m := cputime.Start()
				for b.Loop() {
					for i, src := range batches {
						buf.Reset()
						out, _ := comp.Compress(&buf, src)
						raw += len(src)
						wire += len(out)
						records += counts[topic][i]
					}
				}
				m.Report(b, records)
				b.ReportMetric(float64(raw)/float64(records), "raw-B/record")
				b.ReportMetric(float64(wire)/float64(records), "wire-B/record")
			})
		}
	}
}
