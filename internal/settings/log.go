package settings

import (
	"flag"
	"io"
	"log/slog"
	"os"
)

// Log are --log-level and --log-format, shared by the long-running
// commands.
type Log struct {
	Level, Format string
}

// Register defines the flags on fs.
func (l *Log) Register(fs *flag.FlagSet) {
	fs.StringVar(&l.Level, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&l.Format, "log-format", "", "json or text (default: text on a terminal, json otherwise)")
}

// Logger builds the process's one logger, writing to w.
func (l *Log) Logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(l.Level)); err != nil {
		return nil, InvalidValue("log-level", l.Level, "want debug, info, warn or error")
	}
	opts := &slog.HandlerOptions{Level: level}
	format := l.Format
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
	return nil, InvalidValue("log-format", l.Format, "want json or text")
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
