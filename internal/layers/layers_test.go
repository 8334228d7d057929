package layers

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/callstream/callstream"

// level is one rung of the tiers: its packages may import the packages of
// any level below it, never one of the same level or above.
type level struct {
	tier     string   // command, tools, connector, observability, steps, leaves
	packages []string // relative to the module
}

// levels are the tiers, top to bottom. Within the tools, the pipeline
// steps and the leaves the order is explicit: a step imports only steps
// downstream of it (the order of data in DESIGN.md: a window is planned
// and fetched, its records read in the vendor's format, then written in
// one transaction of events and state).
var levels = []level{
	{"command", []string{"cmd/callstream"}},

	{"tools", []string{"doctor", "internal/bench", "internal/settings", "internal/devbroker"}},
	{"tools", []string{"check"}}, // reads the output against the simulator's truth
	{"tools", []string{"simulator"}},

	{"connector", []string{"connector"}},

	// observability: the API log, vendor notes, backfill progress, the
	// stall watch.
	{"observability", []string{"connector/observe"}},

	{"steps", []string{"connector/source", "connector/schedule"}}, // plan windows, fetch them
	{"steps", []string{"connector/diff"}},                         // a window's records against the state: events, state changes
	{"steps", []string{"connector/calllist"}},                     // the wire format, between the source and the diff
	{"steps", []string{"connector/sink", "connector/registry"}},   // the transaction; schema ids
	{"steps", []string{"connector/state", "connector/event", "connector/security"}},

	{"leaves", []string{"internal/proc", "internal/committed"}},
	{"leaves", []string{
		"secret", "schemas", "metrics", "internal/pause", "internal/cputime", "internal/procstat",
		"internal/syncbuf", "internal/avrotest", "internal/vendortest", "internal/testpki",
		"internal/layers", "internal/realkafka", "internal/netdelay", "deploy",
	}},
}

type pkg struct {
	ImportPath string
	Imports    []string
	Module     *struct{ Path string }
}

// modulePackages lists the module's packages and their imports (tests'
// imports aside) as `go list -deps` reports them.
func modulePackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-json", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("reading go list: %v", err)
		}
		if p.Module != nil && p.Module.Path == module {
			pkgs = append(pkgs, p)
		}
	}
	return pkgs
}

func rel(path string) string { return strings.TrimPrefix(strings.TrimPrefix(path, module), "/") }

func TestImportsPointDown(t *testing.T) {
	rank := map[string]int{}
	for i, l := range levels {
		for _, p := range l.packages {
			if _, dup := rank[p]; dup {
				t.Fatalf("%s is placed twice", p)
			}
			rank[p] = i
		}
	}
	name := func(p string) string { return p + " (" + levels[rank[p]].tier + ")" }
	seen := map[string]bool{}
	for _, p := range modulePackages(t) {
		from := rel(p.ImportPath)
		seen[from] = true
		r, ok := rank[from]
		if !ok {
			t.Errorf("%s is in no tier: place it in levels", from)
			continue
		}
		for _, imp := range p.Imports {
			if imp != module && !strings.HasPrefix(imp, module+"/") {
				continue
			}
			to := rel(imp)
			if tr, ok := rank[to]; ok && tr <= r {
				t.Errorf("wrong arrow: %s imports %s, which is not below it", name(from), name(to))
			}
		}
	}
	for p := range rank {
		if !seen[p] {
			t.Errorf("%s is placed in levels but is not a package of the module", p)
		}
	}
}
