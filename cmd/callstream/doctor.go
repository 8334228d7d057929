package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/callstream/callstream/connector"
	"github.com/callstream/callstream/connector/registry"
	"github.com/callstream/callstream/internal/settings"
)

// The names of doctor's checks, in the order they are printed. Scripts
// read them from --format json: they are a contract.
const (
	checkAPIReach     = "api.reach"
	checkAPIClock     = "api.clock"
	checkAPIAuth      = "api.auth"
	checkAPIType      = "api.type"
	checkAPIPageSize  = "api.page-size"
	checkAPIDecode    = "api.decode"
	checkKafkaReach   = "kafka.reach"
	checkKafkaTxn     = "kafka.transactions"
	checkKafkaTopics  = "kafka.topics"
	checkRegistry     = "registry"
	doctorCheckBudget = 5 * time.Second // one check's network calls, unless it says otherwise
)

// checkResult is the outcome of one check: what it found (Detail) and, when
// it failed, what to do (Hint). Neither ever holds a secret.
type checkResult struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	Hint   string `json:"hint"`
	// Skipped is set on a check that could not run because a check it
	// needs failed; it counts as failed.
	Skipped bool `json:"skipped,omitempty"`
	// Source names the source an api.* check is of, when the settings
	// list several (`sources:`).
	Source string `json:"source,omitempty"`
}

func pass(name, detail string) checkResult { return checkResult{Name: name, OK: true, Detail: detail} }

func fail(name, detail, hint string) checkResult {
	return checkResult{Name: name, Detail: detail, Hint: hint}
}

// skipped is the result of a check whose prerequisite failed.
func skipped(name, prerequisite string) checkResult {
	return checkResult{Name: name, Skipped: true, Detail: "skipped: " + prerequisite + " failed",
		Hint: "fix " + prerequisite + " first, then run doctor again"}
}

// label is the check's name in text output, with its source if any.
func (c checkResult) label() string {
	if c.Source != "" {
		return c.Name + " [" + c.Source + "]"
	}
	return c.Name
}

// doctorReport is the output of --format json.
type doctorReport struct {
	OK     bool          `json:"ok"`
	Checks []checkResult `json:"checks"`
}

// cmdDoctor checks run's settings against the API, Kafka and the Schema
// Registry before a deployment, writing nothing anywhere: exit 0 when every
// check passed, 1 when one failed, 2 on a usage error.
func cmdDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	f := settings.Run{Version: version}
	f.Register(fs)
	var format string
	formatFlag := func(fs *flag.FlagSet) {
		fs.StringVar(&format, "format", "text", "output: text (a line per check) or json (one object)")
	}
	formatFlag(fs)
	if err := settings.Parse(fs, args, os.LookupEnv); err != nil {
		return flagExit(fs, stdout, stderr, "doctor", err)
	}
	if format != "text" && format != "json" {
		return exitStatus(stderr, "doctor", settings.Usagef("--format: invalid value %q: want text or json", format))
	}
	var sources []connector.Config
	if f.Many() {
		set, err := f.SetConfig(args, os.LookupEnv, time.Now(), formatFlag)
		if err != nil {
			return exitStatus(stderr, "doctor", err)
		}
		sources = set.Sources
	} else {
		cfg, err := f.Config(time.Now())
		if err != nil {
			return exitStatus(stderr, "doctor", err)
		}
		sources = []connector.Config{cfg}
	}
	rep := diagnose(ctx, sources, f.Registry)
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rep); err != nil {
			return exitStatus(stderr, "doctor", err)
		}
	} else {
		printReport(stdout, rep)
	}
	if !rep.OK {
		return 1
	}
	return 0
}

// diagnose runs the checks of the API (of each source), of Kafka and of
// the registry side by side; the checks of one group run in order, each
// after those it needs. The sources share the brokers, topics and
// registry, which the first one's settings describe.
func diagnose(ctx context.Context, sources []connector.Config, reg *registry.Client) doctorReport {
	var (
		wg                sync.WaitGroup
		kafka, registered []checkResult
		api               = make([][]checkResult, len(sources))
	)
	for i, cfg := range sources {
		wg.Go(func() {
			api[i] = checkAPI(ctx, cfg)
			if len(sources) > 1 {
				for j := range api[i] {
					api[i][j].Source = cfg.SourceName
				}
			}
		})
	}
	wg.Go(func() { kafka = checkKafka(ctx, sources[0]) })
	if reg != nil {
		wg.Go(func() { registered = []checkResult{checkSchemaRegistry(ctx, reg, sources[0])} })
	}
	wg.Wait()
	rep := doctorReport{OK: true, Checks: append(append(slices.Concat(api...), kafka...), registered...)}
	for _, c := range rep.Checks {
		rep.OK = rep.OK && c.OK
	}
	return rep
}

// printReport writes one line per check, ✔ or ✘ and what it found, and
// under a failed one what to do.
func printReport(w io.Writer, rep doctorReport) {
	width := 0
	for _, c := range rep.Checks {
		width = max(width, len(c.label()))
	}
	failed, skips := 0, 0
	for _, c := range rep.Checks {
		mark := "✔"
		switch {
		case c.Skipped:
			mark = "✘"
			skips++
		case !c.OK:
			mark = "✘"
			failed++
		}
		fmt.Fprintf(w, "%s %-*s  %s\n", mark, width, c.label(), c.Detail)
		if !c.OK && c.Hint != "" {
			fmt.Fprintf(w, "  %s  → %s\n", strings.Repeat(" ", width), c.Hint)
		}
	}
	switch {
	case failed+skips == 0:
		fmt.Fprintf(w, "all %d checks passed\n", len(rep.Checks))
	case skips == 0:
		fmt.Fprintf(w, "%d of %d checks failed\n", failed, len(rep.Checks))
	default:
		fmt.Fprintf(w, "%d of %d checks failed, %d skipped after them\n", failed, len(rep.Checks), skips)
	}
}
