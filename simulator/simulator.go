// Package simulator imitates the vendor's getCallList API: it checks each
// request's sign exactly as the client computes it, and answers from a
// deterministic set of calls made up from a seed. Calls arrive over time and
// their speech-to-text status changes after a delay, all computed from the
// clock when asked, so there is no background work and nothing per call is
// stored: a million calls cost no memory until they are paged.
//
// It speaks the vendor's format from its own code (record type, encoder,
// China Standard Time, sign check), written from the vendor's page and
// sample, and imports nothing of the client: a mistake the two made alike
// would otherwise never show in a test.
//
// Requests: the appId, appKey and sign headers must match (a mismatch is
// HTTP 200 with {"code":401,"message":"sign invalid","data":null}); the
// timestamp must be a number in the recipe's unit (milliseconds from 10^12,
// seconds below 10^11) but its age is not checked, except under the skew
// fault. A body without
// type, with pageNo or pageSize below 1 or a malformed startTime or endTime
// is answered with code 400. Both times are optional and inclusive. A
// pageSize above Config.MaxPageSize is answered with that many records a
// page and says so in its pageSize, as a vendor with a cap would.
//
// Type filter: the request's type is a category of the archive, not the
// record's: the vendor's own example asks type "chat" and gets records of
// type "call". The types of Config.Types list every call; any other type
// gets what a real server would most harmfully answer, code 0 with an empty
// page.
//
// GET /_sim/records answers {"records":[…]}, every call created so far with
// its current status in the vendor's format, by ascending id: the truth that
// tests compare the connector's output against.
package simulator

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/callstream/callstream/secret"
)

// Config configures a Simulator. AppID and AppKey are required.
type Config struct {
	AppID  string        // the appId every request must carry
	AppKey secret.String // the appKey every request must carry, and the sign's key
	// Sign is the sign recipe, a spec as the client's --sign takes it (see
	// signRecipe); empty is DefaultSign.
	Sign string
	// Types are the request types that list the calls; empty is
	// DefaultTypes. Any other type is answered with an empty page.
	Types []string
	// MaxPageSize caps the records of one page: a larger pageSize is
	// answered with MaxPageSize records and pageSize MaxPageSize. 0 is
	// DefaultMaxPageSize.
	MaxPageSize int
	Seed        int64 // the same seed and config give the same calls
	// History calls exist at the start, their gmtCreateTime spread over the
	// HistorySpan before it (whole seconds).
	History     int
	HistorySpan time.Duration
	// Calls new calls arrive after the start, Rate a second, until Calls of
	// them have; Calls 0 means no end, Rate 0 means no new calls.
	Calls int
	Rate  float64
	// ConvertAfter is how long a call stays in status 1 (converting) before
	// it becomes 2 (converted) or, for a FailRatio share of calls chosen by
	// the seed, 0 (failed).
	ConvertAfter time.Duration
	FailRatio    float64
	Clock        func() time.Time // default time.Now
	// Faults, when set, may answer or spoil requests; nil means none.
	Faults Faults
	// FaultSpec injects the faults it names (see ParseFaults), before
	// Faults sees the request.
	FaultSpec FaultSpec
	// BrokenEvery, when above 0, breaks the inner JSON of every
	// BrokenEvery-th call in order of arrival (the history's included), as
	// the broken-json fault does to a share of calls: a dead letter that
	// shows early and at a known pace. 0 is off.
	BrokenEvery int
}

// Defaults of Config.
const DefaultMaxPageSize = 1000

// DefaultTypes are the request types listing the calls when Config.Types
// is empty: "chat", the only one the vendor's documentation shows.
var DefaultTypes = []string{"chat"}

// Simulator is a vendor API made up from a seed. It is safe for concurrent
// use; nothing in it changes after New.
type Simulator struct {
	cfg    Config
	sign   signRecipe
	types  map[string]bool
	tl     timeline
	world  world
	inject *injector // nil without faults of one answer
	// listing is nil without faults of the listing.
	listing *listing
	// refusedStamps counts timestamps refused under the skew fault.
	refusedStamps atomic.Int64
}

// New validates cfg and starts the simulator's clock: the history lies
// before Clock() now, new calls arrive after it.
func New(cfg Config) (*Simulator, error) {
	switch {
	case cfg.AppID == "":
		return nil, errors.New("simulator config: app id is required")
	case cfg.AppKey.Reveal() == "":
		return nil, errors.New("simulator config: app key is required")
	case cfg.History < 0:
		return nil, fmt.Errorf("simulator config: negative history %d", cfg.History)
	case cfg.HistorySpan < 0:
		return nil, fmt.Errorf("simulator config: negative history span %s", cfg.HistorySpan)
	case cfg.Calls < 0:
		return nil, fmt.Errorf("simulator config: negative calls %d", cfg.Calls)
	case cfg.Rate < 0 || math.IsNaN(cfg.Rate) || math.IsInf(cfg.Rate, 0):
		return nil, fmt.Errorf("simulator config: rate %v is not a non-negative number", cfg.Rate)
	case cfg.Rate == 0 && cfg.Calls > 0:
		return nil, fmt.Errorf("simulator config: %d calls can never arrive at rate 0", cfg.Calls)
	case cfg.ConvertAfter < 0:
		return nil, fmt.Errorf("simulator config: negative convert-after %s", cfg.ConvertAfter)
	case !(cfg.FailRatio >= 0 && cfg.FailRatio <= 1):
		return nil, fmt.Errorf("simulator config: fail ratio %v outside 0..1", cfg.FailRatio)
	case cfg.MaxPageSize < 0:
		return nil, fmt.Errorf("simulator config: negative max page size %d", cfg.MaxPageSize)
	case cfg.BrokenEvery < 0:
		return nil, fmt.Errorf("simulator config: negative broken-every %d", cfg.BrokenEvery)
	}
	sign, err := parseSign(cfg.Sign)
	if err != nil {
		return nil, fmt.Errorf("simulator config: %w", err)
	}
	if len(cfg.Types) == 0 {
		cfg.Types = DefaultTypes
	}
	types := make(map[string]bool, len(cfg.Types))
	for _, t := range cfg.Types {
		if t == "" {
			return nil, errors.New("simulator config: empty request type")
		}
		types[t] = true
	}
	if cfg.MaxPageSize == 0 {
		cfg.MaxPageSize = DefaultMaxPageSize
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if skew, host := cfg.FaultSpec.Skew, cfg.Clock; skew != 0 {
		cfg.Clock = func() time.Time { return host().Add(skew) }
	}
	start := cfg.Clock()
	seed := uint64(cfg.Seed)
	fs := cfg.FaultSpec
	sim := &Simulator{
		cfg:   cfg,
		sign:  sign,
		types: types,
		tl: timeline{
			seed:         seed,
			start:        start,
			histBase:     start.Truncate(time.Second).Add(-cfg.HistorySpan.Truncate(time.Second)),
			history:      cfg.History,
			spanSec:      int64(cfg.HistorySpan / time.Second),
			calls:        cfg.Calls,
			rate:         cfg.Rate,
			convertAfter: cfg.ConvertAfter,
			failRatio:    cfg.FailRatio,
			faults: dataFaults{insert: fs.Insert, insertLag: fs.InsertLag, lateStatus: fs.LateStatus,
				lateAfter: fs.LateStatusAfter, broken: fs.BrokenJSON, brokenEvery: cfg.BrokenEvery},
			content: contentFaults{largeEvery: fs.LargeEvery, largeBytes: fs.LargeBytes,
				corrected: fs.Corrected, correctedAfter: fs.CorrectedAfter},
		},
		world: newWorld(seed),
	}
	if fs.requestFaults() {
		sim.inject = newInjector(fs, seed, cfg.Clock)
	}
	if fs.listingFaults() {
		sim.listing = &listing{spec: fs, seed: seed}
	}
	return sim, nil
}

// Records returns every call created so far with its current status, by
// ascending id: the truth now.
func (s *Simulator) Records() []Record {
	now := s.cfg.Clock()
	calls := s.tl.visible(0, s.tl.arrived(now), now)
	out := make([]Record, 0, calls.len())
	calls.each(func(i int) bool {
		out = append(out, s.record(i, now))
		return true
	})
	return out
}

// Handler serves POST /api/v3/app/getCallList, GET /_sim/records, GET
// /_sim/broken, GET /_sim/faults and GET /_sim/large.
func (s *Simulator) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+callListPath, s.serveCallList)
	mux.HandleFunc("GET /_sim/records", s.serveRecords)
	mux.HandleFunc("GET /_sim/broken", s.serveBroken)
	mux.HandleFunc("GET /_sim/faults", s.serveFaults)
	mux.HandleFunc("GET /_sim/large", s.serveLarge)
	return mux
}

// Serve serves Handler on ln until ctx is done, then shuts down gracefully,
// giving requests in flight up to 5 seconds. It returns nil after a
// shutdown, or the error that stopped serving.
func (s *Simulator) Serve(ctx context.Context, ln net.Listener) error {
	return serve(ctx, ln, s.Handler())
}

// serve serves h on ln until ctx is done; see Simulator.Serve.
func serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving simulator: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutting down simulator: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving simulator: %w", err)
	}
	return nil
}
