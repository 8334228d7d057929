package observe

import (
	"log/slog"
	"sync"
	"time"

	"github.com/callstream/callstream/connector/source"
)

// DefaultAuthLogEvery is how often a refused credential is logged while it
// keeps being refused, unless connector.SourceConfig.AuthLogEvery says otherwise.
const DefaultAuthLogEvery = time.Minute

// apiMessages are the log messages of failed API requests, one per class,
// so that each reads on its own in a log search.
var apiMessages = map[source.Kind]string{
	source.KindTransport: "api request failed: no response",
	source.KindHTTP:      "api request failed: http status",
	source.KindBusiness:  "api request failed: vendor error code",
	source.KindDecode:    "api request failed: malformed response",
	source.KindAuth:      "api refuses the credentials: check --app-id, the app key and --sign",
}

// APILog logs failed API requests. Every class but auth is logged once per
// failure, as a warning: each is retried and passes. An auth failure
// repeats on every attempt until a person fixes the app key or the sign
// recipe, so it is logged as an error once per interval, with the number
// of refusals since the last line and since the refusals began: a count
// that reads the same every minute would look stuck. Errors are *source.APIError, whose text
// never holds the app key or the sign. It is safe for concurrent use.
type APILog struct {
	log   *slog.Logger
	every time.Duration
	clock func() time.Time

	mu       sync.Mutex
	lastAuth time.Time
	refused  int // auth failures not logged yet
	total    int // auth failures since the last accepted request
	skew     time.Duration
}

func NewAPILog(log *slog.Logger, every time.Duration, clock func() time.Time) *APILog {
	if every <= 0 {
		every = DefaultAuthLogEvery
	}
	return &APILog{log: log.With("component", "source"), every: every, clock: clock}
}

// Failed logs one Failed attempt.
func (l *APILog) Failed(kind source.Kind, err error) {
	msg, ok := apiMessages[kind]
	if !ok {
		msg = "api request failed"
	}
	if kind != source.KindAuth {
		l.log.Warn(msg, "class", string(kind), "err", err)
		return
	}
	l.mu.Lock()
	l.refused++
	l.total++
	now := l.clock()
	if !l.lastAuth.IsZero() && now.Sub(l.lastAuth) < l.every {
		l.mu.Unlock()
		return
	}
	n, total := l.refused, l.total
	l.lastAuth, l.refused = now, 0
	l.mu.Unlock()
	l.log.Error(msg, "class", string(kind), "refusals_since_last_log", n, "refusals_total", total,
		"log_every_seconds", l.every.Seconds(), "err", err)
}

// Succeeded notes a request that went through: a refusal that ends is
// logged once more, so the log tells when it was fixed.
func (l *APILog) Succeeded() {
	l.mu.Lock()
	was := !l.lastAuth.IsZero()
	n, total := l.refused, l.total
	l.lastAuth, l.refused, l.total = time.Time{}, 0, 0
	l.mu.Unlock()
	if was {
		l.log.Info("api accepts the credentials again", "refusals_since_last_log", n, "refusals_total", total)
	}
}

// Skewed logs the server's clock offset when it first exceeds a second and
// whenever it moves by more than a second since last logged.
func (l *APILog) Skewed(off time.Duration) {
	l.mu.Lock()
	d := off - l.skew
	if d > -time.Second && d < time.Second {
		l.mu.Unlock()
		return
	}
	l.skew = off
	l.mu.Unlock()
	l.log.Info("api clock offset", "skew_seconds", off.Seconds())
}
