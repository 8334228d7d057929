// Package source is the client of the vendor's getCallList API: it signs
// requests, fetches pages, classifies failures and reads a time window whole,
// with retries and rereads. It knows nothing of Kafka and exports no metrics
// itself; callers count what they need through Hooks.
package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/callstream/callstream/connector/calllist"
	"github.com/callstream/callstream/secret"
	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"
)

// Defaults of Config.
const (
	// DefaultType is the request's type: "chat", the only value the
	// vendor's example request shows. It names a category of the archive,
	// not the records' type (the same answer's records say "call"); the
	// vendor has others, set by Config.Type.
	DefaultType       = "chat"
	DefaultPageSize   = 100
	DefaultTimeout    = 30 * time.Second
	DefaultMaxRereads = 2
	// DefaultPageConcurrency is how many pages of a window are fetched at
	// once after page 1.
	DefaultPageConcurrency = 4
	// MaxPageConcurrency is the most pages of a window fetched at once.
	MaxPageConcurrency = 64
	// MaxPageSize is the largest page size the client asks for.
	MaxPageSize = 1000
	// maxBody caps what the client reads of one response.
	maxBody = 64 << 20
)

// Config configures a Client. BaseURL, AppID and AppKey are required.
type Config struct {
	BaseURL    string          // e.g. "https://open.example.com"; the client appends calllist.Path
	AppID      string          // the appId header
	AppKey     secret.String   // the appKey header and, per Signer, part of the sign
	Type       string          // the body's type; default DefaultType
	PageSize   int             // records per page, 1..1000; default 100
	Signer     calllist.Signer // the sign recipe; the zero Signer is calllist.DefaultSignSpec
	HTTPClient *http.Client    // default: a new client without a timeout of its own
	Timeout    time.Duration   // per request (one attempt); default 30s
	Clock      func() time.Time
	Hooks      Hooks
	// MaxPages caps the pages of one window: ReadWindow returns a
	// *TooManyPagesError after page 1 of a larger window. 0 means no cap.
	MaxPages int
	// MaxRereads bounds how often ReadWindow reads a drifting window again
	// before it returns ErrWindowDrift (to be narrowed) or, for a window of
	// one second, accepts it as listed. 0 means DefaultMaxRereads; a
	// negative value means no rereads.
	MaxRereads int
	// PageSizeProbe is how often, while a page cap lower than PageSize is
	// in use, page 1 is asked at PageSize again to notice a raised cap; 0
	// means DefaultPageSizeProbe.
	PageSizeProbe time.Duration
	// PageConcurrency is how many pages of a window ReadWindow fetches at
	// once after page 1 (which tells how many there are); 1 fetches them
	// one at a time; at most MaxPageConcurrency, the bound that
	// connector.Config.Validate checks too. 0 means DefaultPageConcurrency.
	// RateLimit applies to every request whatever this is.
	PageConcurrency int
	// RateLimit caps the requests a second, every attempt counted, retries
	// included; 0 means no limit. RateBurst is how many requests may go
	// at once after a quiet spell; default 1.
	RateLimit float64
	RateBurst int
	// InFlight, if set, is shared by every client of a process and caps
	// the requests in flight in all of them: each attempt holds one unit
	// from after the rate limit until its response is read. nil: no cap.
	InFlight *semaphore.Weighted
}

// Hooks lets callers observe the client, e.g. to count metrics. Every hook is
// optional. Hooks run synchronously on the calling goroutine and must be
// safe for concurrent use if the Client is used concurrently.
type Hooks struct {
	// Request is called once per HTTP attempt with the request's context,
	// "ok" or the error's Kind as outcome, and the attempt's duration.
	// Attempts cut short because the caller's context is done are not
	// reported.
	Request func(ctx context.Context, outcome string, d time.Duration)
	// Error is called once per failed attempt with the failure's Kind and
	// the *APIError, whose text holds no secret.
	Error func(kind Kind, err error)
	// Reread is called each time ReadWindow starts reading a window again,
	// with one of the reasons "total_count_changed", "short_page",
	// "count_mismatch" or "duplicate_id".
	Reread func(reason string)
	// PageSize is called when the page size in use changes, from and to,
	// for one of the reasons PageSizeCapped, PageSizeEchoed or
	// PageSizeRaised. It may be called with the client's page size lock
	// held: it must not call the client.
	PageSize func(from, to int, reason string)
	// Skew is called with the smoothed clock offset (the server's clock
	// minus ours) after each response that carried a Date header.
	Skew func(offset time.Duration)
}

// Client fetches pages of getCallList. It is safe for concurrent use.
type Client struct {
	cfg     Config
	url     string
	limiter *rate.Limiter // nil: no limit
	skew    clockSkew
	size    *pageSizer
}

// NewClient validates cfg, applies its defaults and returns a Client.
func NewClient(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("source config: base URL must be an absolute http or https URL")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("source config: base URL must have no query or fragment")
	}
	switch {
	case cfg.AppID == "":
		return nil, errors.New("source config: app id is required")
	case cfg.AppKey.Reveal() == "":
		return nil, errors.New("source config: app key is required")
	case cfg.PageSize < 0 || cfg.PageSize > MaxPageSize:
		return nil, fmt.Errorf("source config: page size %d outside 1..%d", cfg.PageSize, MaxPageSize)
	case cfg.Timeout < 0:
		return nil, fmt.Errorf("source config: negative timeout %s", cfg.Timeout)
	case cfg.MaxPages < 0:
		return nil, fmt.Errorf("source config: negative max pages %d", cfg.MaxPages)
	case cfg.PageConcurrency < 0 || cfg.PageConcurrency > MaxPageConcurrency:
		return nil, fmt.Errorf("source config: page concurrency %d outside 1..%d", cfg.PageConcurrency, MaxPageConcurrency)
	case cfg.PageSizeProbe < 0:
		return nil, fmt.Errorf("source config: negative page size probe interval %s", cfg.PageSizeProbe)
	case cfg.RateLimit < 0 || cfg.RateBurst < 0:
		return nil, fmt.Errorf("source config: negative rate limit %v or burst %d", cfg.RateLimit, cfg.RateBurst)
	}
	if err := cfg.Signer.Validate(); err != nil {
		return nil, fmt.Errorf("source config: %w", err)
	}
	if cfg.Type == "" {
		cfg.Type = DefaultType
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = DefaultPageSize
	}
	if cfg.PageConcurrency == 0 {
		cfg.PageConcurrency = DefaultPageConcurrency
	}
	if cfg.HTTPClient == nil {
		// Keep a connection for each page fetched at once (the default
		// transport keeps two).
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = max(cfg.PageConcurrency, 2)
		cfg.HTTPClient = &http.Client{Transport: t}
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.MaxRereads == 0 {
		cfg.MaxRereads = DefaultMaxRereads
	}
	if cfg.PageSizeProbe == 0 {
		cfg.PageSizeProbe = DefaultPageSizeProbe
	}
	c := &Client{cfg: cfg, url: strings.TrimSuffix(cfg.BaseURL, "/") + calllist.Path,
		size: &pageSizer{configured: cfg.PageSize, inUse: cfg.PageSize, probeEvery: cfg.PageSizeProbe, changed: cfg.Hooks.PageSize}}
	if cfg.RateLimit > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(cfg.RateLimit), max(cfg.RateBurst, 1))
	}
	return c, nil
}

// PageSize returns the page size in use: Config.PageSize, or the cap the
// server showed (see ReadWindow).
func (c *Client) PageSize() int { return c.size.current() }

// FetchPage makes ONE attempt at page pageNo (1-based) of window w. Failures
// are *APIError (see Kind) wrapped with the page and window; if ctx is done
// the error wraps ctx.Err() instead. The page's PageNo is checked against
// pageNo; nothing else is checked across pages here (see ReadWindow).
func (c *Client) FetchPage(ctx context.Context, w calllist.Window, pageNo int) (*calllist.Page, error) {
	return c.attempt(ctx, w, pageNo, c.cfg.PageSize)
}

// Count makes ONE attempt at asking how many calls the API lists in w: page
// 1 at a page size of 1, whose totalCount counts them all. Failures are as
// FetchPage's.
func (c *Client) Count(ctx context.Context, w calllist.Window) (int, error) {
	p, err := c.attempt(ctx, w, 1, 1)
	if err != nil {
		return 0, err
	}
	return p.TotalCount, nil
}

// attempt makes one request of page pageNo of w at pageSize, waiting for
// the rate limit and reporting it through the hooks.
func (c *Client) attempt(ctx context.Context, w calllist.Window, pageNo, pageSize int) (*calllist.Page, error) {
	if pageNo < 1 {
		return nil, fmt.Errorf("fetching page %d of %s: page numbers start at 1", pageNo, w)
	}
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			return nil, fmt.Errorf("fetching page %d of %s: waiting for the rate limit: %w", pageNo, w, err)
		}
	}
	if c.cfg.InFlight != nil {
		if err := c.cfg.InFlight.Acquire(ctx, 1); err != nil {
			return nil, fmt.Errorf("fetching page %d of %s: waiting for a request slot: %w", pageNo, w, err)
		}
		defer c.cfg.InFlight.Release(1)
	}
	start := time.Now()
	p, err := c.fetch(ctx, w, pageNo, pageSize)
	d := time.Since(start)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("fetching page %d of %s: %w", pageNo, w, ctx.Err())
		}
		kind := KindOf(err)
		if h := c.cfg.Hooks.Request; h != nil {
			h(ctx, string(kind), d)
		}
		if h := c.cfg.Hooks.Error; h != nil {
			h(kind, err)
		}
		return nil, fmt.Errorf("fetching page %d of %s: %w", pageNo, w, err)
	}
	if h := c.cfg.Hooks.Request; h != nil {
		h(ctx, "ok", d)
	}
	return p, nil
}

// fetch does the request; every error it returns is an *APIError.
func (c *Client) fetch(ctx context.Context, w calllist.Window, pageNo, pageSize int) (*calllist.Page, error) {
	body := calllist.NewRequest(w.Start, w.End, c.cfg.Type, pageNo, pageSize).Body()
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, sign, err := NewSignedRequest(ctx, c.url, c.cfg.AppID, c.cfg.AppKey, c.cfg.Signer, c.Now(), body)
	if err != nil {
		return nil, &APIError{Kind: KindTransport, Err: fmt.Errorf("building request: %w", err)}
	}

	sent := c.cfg.Clock()
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, &APIError{Kind: KindTransport, Err: fmt.Errorf("sending request: %w", err)}
	}
	defer resp.Body.Close()
	if off, ok := c.skew.observe(resp.Header.Get("Date"), sent, c.cfg.Clock()); ok && c.cfg.Hooks.Skew != nil {
		c.cfg.Hooks.Skew(off)
	}
	raw, err := readBody(resp)
	if err != nil {
		return nil, &APIError{Kind: KindTransport, Status: resp.StatusCode, Err: fmt.Errorf("reading response: %w", err)}
	}
	secrets := []string{c.cfg.AppKey.Reveal(), sign.Reveal()}
	if err := c.checkStatus(resp, raw, secrets); err != nil {
		return nil, err
	}
	if len(raw) > maxBody {
		return nil, &APIError{Kind: KindDecode, Status: resp.StatusCode, Err: fmt.Errorf("decoding response: body larger than %d bytes", maxBody)}
	}
	p, err := decodePage(raw, secrets...)
	if err != nil {
		return nil, err
	}
	if p.PageNo != pageNo {
		return nil, &APIError{Kind: KindDecode, Err: fmt.Errorf("decoding response: page %d answered for page %d", p.PageNo, pageNo)}
	}
	return p, nil
}

// decodePage decodes a response body. Its errors are *APIError of kind
// decode, business or auth; vendor texts in them are scrubbed of secrets.
func decodePage(body []byte, secrets ...string) (*calllist.Page, error) {
	p, err := calllist.DecodePage(body)
	var ce *calllist.CodeError
	switch {
	case errors.As(err, &ce):
		kind := KindBusiness
		if authCodes[ce.Code] {
			kind = KindAuth
		}
		return nil, &APIError{Kind: kind, Code: ce.Code, Err: fmt.Errorf("vendor says %s", vendorText(ce.Message, secrets...))}
	case err != nil:
		return nil, &APIError{Kind: KindDecode, Err: fmt.Errorf("decoding response of %d bytes: %w", len(body), err)}
	}
	return p, nil
}

// NewSignedRequest returns the POST of body to url with the headers the
// vendor wants: appId, appKey, the timestamp of now in the signer's unit
// and the sign over them. It returns the sign too, for scrubbing it from
// texts the vendor sends back.
func NewSignedRequest(ctx context.Context, url, appID string, appKey secret.String, s calllist.Signer, now time.Time, body []byte) (*http.Request, secret.String, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, "", err
	}
	ts := s.Timestamp(now)
	sign := s.Sign(appID, appKey, ts, body)
	req.Header.Set("appId", appID)
	req.Header.Set("appKey", appKey.Reveal())
	req.Header.Set("timestamp", ts)
	req.Header.Set("sign", sign.Reveal())
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	return req, sign, nil
}

// checkStatus classifies a non-2xx status.
func (c *Client) checkStatus(resp *http.Response, raw []byte, secrets []string) error {
	st := resp.StatusCode
	if st >= 200 && st < 300 {
		return nil
	}
	e := &APIError{Kind: KindHTTP, Status: st}
	switch {
	case st == http.StatusUnauthorized || st == http.StatusForbidden:
		e.Kind = KindAuth
	case st == http.StatusTooManyRequests || st >= 500:
		// An HTTP date is on the server's clock.
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), c.Now())
	}
	// Scrubbing happens before vendorText shortens the text to 200 bytes,
	// so a secret cut at this 4 KiB boundary is cut off again there.
	body := vendorText(string(raw[:min(len(raw), 4096)]), secrets...)
	if text := http.StatusText(st); text != "" {
		e.Err = fmt.Errorf("%s, body %s", strings.ToLower(text), body)
	} else {
		e.Err = fmt.Errorf("body %s", body)
	}
	return e
}

// readBody reads at most maxBody+1 bytes of the body, in one allocation
// when the length is known: pages of a thousand records are megabytes.
func readBody(resp *http.Response) ([]byte, error) {
	size := int64(bytes.MinRead)
	if resp.ContentLength > 0 {
		// bytes.Buffer grows when less than MinRead is free, even at EOF.
		size += min(resp.ContentLength, maxBody+1)
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	_, err := buf.ReadFrom(io.LimitReader(resp.Body, maxBody+1))
	return buf.Bytes(), err
}
