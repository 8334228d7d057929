package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kslog"
)

// logFlags are --log-level and --log-format, shared by the long-running
// commands.
type logFlags struct {
	level, format string
}

func (l *logFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.level, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&l.format, "log-format", "", "json or text (default: text on a terminal, json otherwise)")
}

// logger builds the process's one logger, writing to w.
func (l *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(l.level)); err != nil {
		return nil, invalidValue("log-level", l.level, "want debug, info, warn or error")
	}
	opts := &slog.HandlerOptions{Level: level}
	format := l.format
	if format == "" {
		format = "json"
		if isTerminal(w) {
			format = "text"
		}
	}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, invalidValue("log-format", l.format, "want json or text")
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

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
