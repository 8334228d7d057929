package connector

import (
	"sync"
	"time"

	"github.com/callstream/callstream/connector/source"
	"github.com/callstream/callstream/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

type condition int

const (
	producerReady condition = iota
	stateLoaded
)

// Health tracks what /readyz reports: the producer is initialised, the
// state is loaded, a window was read whole and committed since the start,
// one was recently, and no task stalled (see stallWatch). It is safe for concurrent use.
type Health struct {
	mu       sync.Mutex
	maxAge   time.Duration
	clock    func() time.Time
	m        *metrics.Metrics
	labels   prometheus.Labels
	producer bool
	state    bool
	lastPoll time.Time
	lastErr  source.Kind
	// authSince is when the API began refusing the credentials, zero
	// while it accepts them.
	authSince time.Time
	// ended says why Run ended on a fatal error; empty while it runs.
	ended string
	// kafkaWhy says why the producer is not initialised yet, while Run
	// waits for the brokers.
	kafkaWhy string
	// stallWhy, if set, says which task stalled ("" when none did).
	stallWhy func() string
	// restoreWhy says what the restore waits for while it reads nothing.
	restoreWhy string
}

func newHealth(maxAge time.Duration, clock func() time.Time, m *metrics.Metrics, labels prometheus.Labels) *Health {
	if maxAge <= 0 {
		maxAge = 5 * time.Minute
	}
	return &Health{maxAge: maxAge, clock: clock, m: m, labels: labels}
}

func (h *Health) set(c condition, v bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch c {
	case producerReady:
		h.producer = v
	case stateLoaded:
		h.state = v
	}
}

// kafkaWaiting notes why the brokers are not ready yet; "" once they are.
func (h *Health) kafkaWaiting(why string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.kafkaWhy = why
}

// restoreWaiting notes what the restore waits for; "" once it reads.
func (h *Health) restoreWaiting(why string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.restoreWhy = why
}

// end marks the connector stopped for good, for the reason given.
func (h *Health) end(why string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ended = why
}

func (h *Health) polled() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lastPoll = h.clock()
	h.lastErr = ""
	h.m.LastSuccess.With(h.labels).Set(float64(h.lastPoll.UnixMilli()) / 1000)
}

func (h *Health) apiError(k source.Kind) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lastErr = k
	if k == source.KindAuth && h.authSince.IsZero() {
		h.authSince = h.clock()
	}
}

// apiOK notes a request the API answered: whatever it refused before, it
// accepts the credentials now.
func (h *Health) apiOK() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.authSince = time.Time{}
}

// Ready reports whether the connector is ready, and if not, why.
func (h *Health) Ready() (bool, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.readyLocked()
}

func (h *Health) readyLocked() (bool, string) {
	switch {
	case h.ended != "":
		return false, h.ended
	case !h.producer && h.kafkaWhy != "":
		return false, "transactional producer not initialised: " + h.kafkaWhy
	case !h.producer:
		return false, "transactional producer not initialised"
	case !h.state && h.restoreWhy != "":
		return false, "state not loaded: " + h.restoreWhy
	case !h.state:
		return false, "state not loaded"
	case !h.authSince.IsZero():
		// Retrying will not help until a person fixes the app key or
		// the sign recipe: say so at once rather than after maxAge.
		return false, "API refuses the credentials (auth) for " + h.clock().Sub(h.authSince).Round(time.Second).String()
	case h.lastPoll.IsZero():
		// An API that is mistyped or unreachable must not look ready
		// while it has never answered a window whole.
		why := "no window read whole since the start"
		if h.lastErr != "" {
			why += " (last API error: " + string(h.lastErr) + ")"
		}
		return false, why
	}
	if age := h.clock().Sub(h.lastPoll); age > h.maxAge {
		why := "no successful poll for " + age.Round(time.Second).String()
		if h.lastErr != "" {
			why += " (last API error: " + string(h.lastErr) + ")"
		}
		return false, why
	}
	if h.stallWhy != nil {
		if why := h.stallWhy(); why != "" {
			return false, why
		}
	}
	return true, "ok"
}
