package settings

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzConfigFile feeds `run --config` arbitrary YAML. Loading must never
// panic; a file it refuses gives a one-line usage error (exit status 2),
// and a file it takes gives settings that toConfig either accepts or
// refuses with a one-line error.
func FuzzConfigFile(f *testing.F) {
	if prod, err := os.ReadFile("../../cmd/callstream/testdata/production.yaml"); err == nil {
		f.Add(prod)
	}
	for _, s := range []string{
		"api-url: http://127.0.0.1:8080\napp-id: a\napp-key: k\nbrokers: 127.0.0.1:9092\n",
		"brokers:\n  - a:9092\n  - b:9092\ntiers: [recent=15m@0s, day=24h@5m]\n",
		"page-size: 100\nmax-pages: 0\npoll-interval: 5s\nsettle-delay: -1s\n",
		"start-from: 2025-03-21T14:43:03+08:00\ncreate-topics: false\n",
		"unknown-key: 1\n",
		"config: other.yaml\n",
		"page-size: {a: 1}\n",
		"page-size: [1, [2]]\n",
		"- a\n- b\n",
		"{",
		"app-key: !!binary aGVsbG8=\n",
		"~\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "callstream.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		fs := newRunFlagSet()
		var rf Run
		rf.Register(fs)
		err := Parse(fs, []string{"--config", path}, NoEnv)
		if err != nil {
			var u *UsageError
			if !errors.As(err, &u) {
				t.Fatalf("refused with %T %q, want a usage error", err, err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("refused with a multi-line error %q", err)
			}
			return
		}
		// Settings naming files would make toConfig read whatever path the
		// input names; the rest must build or be refused in one line.
		files := false
		fs.VisitAll(func(fl *flag.Flag) {
			files = files || strings.HasSuffix(fl.Name, "-file") && fl.Value.String() != ""
		})
		if files {
			return
		}
		if _, err := rf.SourceConfig(time.Now()); err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("toConfig refused with a multi-line error %q", err)
		}
	})
}
