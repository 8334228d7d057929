package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/callstream/callstream/doctor"
	"github.com/callstream/callstream/internal/settings"
)

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
	cfg, err := f.ConnectorConfig(args, os.LookupEnv, time.Now(), formatFlag)
	if err != nil {
		return exitStatus(stderr, "doctor", err)
	}
	rep := doctor.Run(ctx, cfg.Sources, f.Registry)
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

// printReport writes one line per check, ✔ or ✘ and what it found, and
// under a failed one what to do.
func printReport(w io.Writer, rep doctor.Report) {
	width := 0
	for _, c := range rep.Checks {
		width = max(width, len(label(c)))
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
		fmt.Fprintf(w, "%s %-*s  %s\n", mark, width, label(c), c.Detail)
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

// label is the check's name in text output, with its source if any.
func label(c doctor.Result) string {
	if c.Source != "" {
		return c.Name + " [" + c.Source + "]"
	}
	return c.Name
}
