package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/callstream/callstream/internal/settings"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kslog"
)

// kgoLogger routes franz-go's logs to ours, at warn and above: its info
// lines are per connection and would drown the connector's own.
func kgoLogger(l *slog.Logger) kgo.Logger {
	return warnCapped{kslog.New(l.With("component", "kafka"))}
}

type warnCapped struct{ *kslog.Logger }

func (w warnCapped) Level() kgo.LogLevel { return min(w.Logger.Level(), kgo.LogLevelWarn) }

// flagExit reports a parse failure: -h prints the flags and exits 0,
// anything else is a one-line error and exit 2.
func flagExit(fs *flag.FlagSet, stdout, stderr io.Writer, cmd string, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, "usage: callstream %s [flags]\n", cmd)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return 0
	}
	return exitStatus(stderr, cmd, err)
}

// exitStatus prints err as one line and returns the exit status it calls
// for: 2 for bad usage, 0 for -h, 1 otherwise.
func exitStatus(stderr io.Writer, cmd string, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "callstream %s: %s\n", cmd, settings.OneLine(err))
	var u *settings.UsageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}
