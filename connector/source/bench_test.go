package source

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/callstream/callstream/internal/cputime"
)

// BenchmarkDecodePage decodes a page of 1000 records (the vendor's sample
// records over and over) with the one-pass decoder and, for the ratio,
// with encoding/json into the envelope as it was decoded before.
//
//	go test -run '^$' -bench DecodePage ./connector/source/
func BenchmarkDecodePage(b *testing.B) {
	p, err := decodePage(sample(b))
	if err != nil {
		b.Fatal(err)
	}
	var body bytes.Buffer
	body.WriteString(`{"code":0,"message":"success","data":{"totalCount":1000,"totalPage":1,"pageNo":1,"pageSize":1000,"result":[`)
	for i := range 1000 {
		if i > 0 {
			body.WriteByte(',')
		}
		body.Write(p.Records[i%len(p.Records)])
	}
	body.WriteString(`],"message":"38秒"}}`)
	for _, tc := range []struct {
		name   string
		decode func([]byte) (int, error)
	}{
		{"one-pass", func(b []byte) (int, error) {
			p, err := decodePage(b)
			if err != nil {
				return 0, err
			}
			return len(p.Records), nil
		}},
		{"encoding-json", func(b []byte) (int, error) {
			var env envelope
			err := json.Unmarshal(b, &env)
			return len(env.Data.Result), err
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(body.Len()))
			m := cputime.Start()
			records := 0
			for b.Loop() {
				n, err := tc.decode(body.Bytes())
				if err != nil || n != 1000 {
					b.Fatalf("decoded %d records: %v", n, err)
				}
				records += n
			}
			m.Report(b, records)
		})
	}
}
