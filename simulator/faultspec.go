package simulator

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// FaultSpec is what `callstream simulate --faults SPEC` asks for: a
// comma-separated list of NAME=VALUE, each fault off unless named.
//
// Faults of one answer, each a share of getCallList requests (0..1; their
// sum at most 1), drawn from the seed in the order requests arrive:
//
//	http500=P            HTTP 500 with an HTML body
//	http429=P            HTTP 429 with Retry-After, in seconds and as an HTTP date by turns
//	retry-after=DUR      the Retry-After of http429 (default 1s)
//	business=P           HTTP 200 with {"code":500,"message":"system busy"}
//	malformed=P          HTTP 200 with a body that is not JSON
//	truncated=P          the true answer cut off in the middle
//	slow=P:DUR           the answer delayed by DUR (independent of the above)
//
// Faults of the data, a share of calls chosen by the seed, so the truth
// (GET /_sim/records) follows them:
//
//	insert-while-paging=P:DUR  the call appears in the list up to DUR after its
//	                           gmtCreateTime (default 10s): inserted into a window
//	                           that may be paged or read already
//	late-status=P:DUR          the call's conversion ends DUR after it arrives
//	                           instead of --convert-after (default 10m)
//	broken-json=P              once converted or failed, the call's content (and
//	                           message) is cut in the middle: not JSON; GET
//	                           /_sim/broken lists these calls
//
// Faults of the content, calls chosen by their index or the seed, so the
// truth (GET /_sim/records) follows them:
//
//	large-transcript=N:BYTES   every Nth call's transcript, once converted, is
//	                           BYTES of text (default 1400000: an event of about
//	                           1.4 MB, more than Kafka's default limit) that
//	                           compresses badly; GET /_sim/large lists these calls
//	corrected=P:DUR            the call's transcript is corrected DUR after it is
//	                           converted (default 30s), its status unchanged
//
// And of the clock:
//
//	skew=DUR             the simulator's clock runs DUR ahead of the host's
//	                     (negative: behind): its Date headers, its calls, and
//	                     it refuses a timestamp more than 30s off its clock
//	                     with code 402
//
// Faults of the listing, which spoil how the calls are listed and never the
// calls: the truth is unaffected. A window is the request's (type,
// startTime, endTime); a per-window fault shows on every read of that
// window, and each half of a split window is drawn again:
//
//	count-plus-one=P     a share of windows whose totalCount (and totalPage) is
//	                     one more than the calls listed, on every read
//	unstable-order=P     a share of requests whose order across a page boundary
//	                     is unstable: the page's last call is replaced by the
//	                     next page's first (one call listed twice, one not at all)
//	unstable-windows=P   the same on every page boundary of every read of a share
//	                     of windows
//	page-cap=N           a silent page cap: at most N calls a page, while pageSize
//	                     echoes the size asked, totalPage is computed from it and
//	                     page p starts at (p-1)·the size asked, as a server that
//	                     caps silently does
//
// Example: http500=0.05,http429=0.05,retry-after=1s,slow=0.02:3s,
// malformed=0.02,truncated=0.02,business=0.02,insert-while-paging=0.1,
// late-status=0.1:10m,broken-json=0.02,large-transcript=500,corrected=0.05:1m,
// skew=90s.
type FaultSpec struct {
	HTTP500, HTTP429, Business, Malformed, Truncated float64
	RetryAfter                                       time.Duration
	Slow                                             float64
	SlowDelay                                        time.Duration
	Insert                                           float64
	InsertLag                                        time.Duration
	LateStatus                                       float64
	LateStatusAfter                                  time.Duration
	BrokenJSON                                       float64
	Skew                                             time.Duration

	// Faults of the listing.
	CountPlusOne, UnstableOrder, UnstableWindows float64
	PageCap                                      int

	// Faults of the content.
	LargeEvery, LargeBytes int
	Corrected              float64
	CorrectedAfter         time.Duration
}

// Defaults of FaultSpec durations left out of a spec.
const (
	DefaultRetryAfter      = time.Second
	DefaultSlowDelay       = 3 * time.Second
	DefaultInsertLag       = 10 * time.Second
	DefaultLateStatusAfter = 10 * time.Minute
	DefaultLargeBytes      = 1_400_000
	DefaultCorrectedAfter  = 30 * time.Second
	// TimestampTolerance is how far off its clock a request's timestamp
	// may be when the skew fault is on.
	TimestampTolerance = 30 * time.Second
)

// ParseFaults parses a fault spec (see FaultSpec); the empty spec is no
// fault.
func ParseFaults(spec string) (FaultSpec, error) {
	f := FaultSpec{RetryAfter: DefaultRetryAfter, SlowDelay: DefaultSlowDelay,
		InsertLag: DefaultInsertLag, LateStatusAfter: DefaultLateStatusAfter,
		LargeBytes: DefaultLargeBytes, CorrectedAfter: DefaultCorrectedAfter}
	if strings.TrimSpace(spec) == "" {
		return f, nil
	}
	seen := map[string]bool{}
	for _, part := range strings.Split(spec, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || name == "" {
			return f, fmt.Errorf("fault %q: want NAME=VALUE", part)
		}
		if seen[name] {
			return f, fmt.Errorf("fault %q: named twice", name)
		}
		seen[name] = true
		if err := f.set(name, val); err != nil {
			return f, fmt.Errorf("fault %s: %w", name, err)
		}
	}
	if sum := f.HTTP500 + f.HTTP429 + f.Business + f.Malformed + f.Truncated; sum > 1 {
		return f, fmt.Errorf("faults of one answer add up to %v, more than 1", sum)
	}
	return f, nil
}

func (f *FaultSpec) set(name, val string) error {
	var err error
	switch name {
	case "http500":
		f.HTTP500, err = share(val)
	case "http429":
		f.HTTP429, err = share(val)
	case "business":
		f.Business, err = share(val)
	case "malformed":
		f.Malformed, err = share(val)
	case "truncated":
		f.Truncated, err = share(val)
	case "broken-json":
		f.BrokenJSON, err = share(val)
	case "retry-after":
		f.RetryAfter, err = positive(val)
	case "slow":
		f.Slow, f.SlowDelay, err = shareFor(val, f.SlowDelay)
	case "insert-while-paging":
		f.Insert, f.InsertLag, err = shareFor(val, f.InsertLag)
	case "late-status":
		f.LateStatus, f.LateStatusAfter, err = shareFor(val, f.LateStatusAfter)
	case "skew":
		f.Skew, err = time.ParseDuration(val)
	case "large-transcript":
		f.LargeEvery, f.LargeBytes, err = everyOf(val, f.LargeBytes)
	case "corrected":
		f.Corrected, f.CorrectedAfter, err = shareFor(val, f.CorrectedAfter)
	default:
		if ok, err := f.setListing(name, val); ok {
			return err
		}
		return fmt.Errorf("unknown fault (want http500, http429, retry-after, business, malformed, " +
			"truncated, slow, insert-while-paging, late-status, broken-json, large-transcript, corrected, skew, " +
			"count-plus-one, unstable-order, unstable-windows or page-cap)")
	}
	return err
}

// setListing sets a fault of the listing; ok is false for another name.
func (f *FaultSpec) setListing(name, val string) (ok bool, err error) {
	switch name {
	case faultCountPlusOne:
		f.CountPlusOne, err = share(val)
	case faultUnstableOrder:
		f.UnstableOrder, err = share(val)
	case faultUnstableWindows:
		f.UnstableWindows, err = share(val)
	case faultPageCap:
		f.PageCap, err = strconv.Atoi(val)
		if err != nil || f.PageCap < 1 {
			err = fmt.Errorf("%q is not a page size of at least 1", val)
		}
	default:
		return false, nil
	}
	return true, err
}

func share(s string) (float64, error) {
	p, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(p) || p < 0 || p > 1 {
		return 0, fmt.Errorf("%q is not a share from 0 to 1", s)
	}
	return p, nil
}

func positive(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration", s)
	}
	return d, nil
}

// shareFor parses P or P:DUR.
func shareFor(s string, def time.Duration) (float64, time.Duration, error) {
	p, d, ok := strings.Cut(s, ":")
	share, err := share(p)
	if err != nil || !ok {
		return share, def, err
	}
	dur, err := positive(d)
	return share, dur, err
}

// everyOf parses N or N:BYTES, both positive whole numbers.
func everyOf(s string, def int) (int, int, error) {
	ns, bs, ok := strings.Cut(s, ":")
	n, err := strconv.Atoi(ns)
	if err != nil || n <= 0 {
		return 0, def, fmt.Errorf("%q is not a positive whole number of calls", ns)
	}
	if !ok {
		return n, def, nil
	}
	b, err := strconv.Atoi(bs)
	if err != nil || b <= 0 {
		return n, def, fmt.Errorf("%q is not a positive whole number of bytes", bs)
	}
	return n, b, nil
}

// String formats f as a spec that ParseFaults reads back, naming only the
// faults that are on.
func (f FaultSpec) String() string {
	var parts []string
	add := func(name string, p float64, v string) {
		if p > 0 {
			parts = append(parts, name+"="+v)
		}
	}
	g := func(p float64) string { return strconv.FormatFloat(p, 'g', -1, 64) }
	add("http500", f.HTTP500, g(f.HTTP500))
	add("http429", f.HTTP429, g(f.HTTP429))
	add("retry-after", f.HTTP429, f.RetryAfter.String())
	add("business", f.Business, g(f.Business))
	add("malformed", f.Malformed, g(f.Malformed))
	add("truncated", f.Truncated, g(f.Truncated))
	add("slow", f.Slow, g(f.Slow)+":"+f.SlowDelay.String())
	add("insert-while-paging", f.Insert, g(f.Insert)+":"+f.InsertLag.String())
	add("late-status", f.LateStatus, g(f.LateStatus)+":"+f.LateStatusAfter.String())
	add("broken-json", f.BrokenJSON, g(f.BrokenJSON))
	add("large-transcript", float64(f.LargeEvery), strconv.Itoa(f.LargeEvery)+":"+strconv.Itoa(f.LargeBytes))
	add("corrected", f.Corrected, g(f.Corrected)+":"+f.CorrectedAfter.String())
	if f.Skew != 0 {
		parts = append(parts, "skew="+f.Skew.String())
	}
	// Faults of the listing.
	add(faultCountPlusOne, f.CountPlusOne, g(f.CountPlusOne))
	add(faultUnstableOrder, f.UnstableOrder, g(f.UnstableOrder))
	add(faultUnstableWindows, f.UnstableWindows, g(f.UnstableWindows))
	if f.PageCap > 0 {
		parts = append(parts, faultPageCap+"="+strconv.Itoa(f.PageCap))
	}
	return strings.Join(parts, ",")
}

// requestFaults reports whether any fault of one answer is on.
func (f FaultSpec) requestFaults() bool {
	return f.HTTP500+f.HTTP429+f.Business+f.Malformed+f.Truncated+f.Slow > 0
}
