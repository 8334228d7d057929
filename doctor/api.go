package doctor

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/callstream/callstream/connector"
	"github.com/callstream/callstream/connector/calllist"
	"github.com/callstream/callstream/connector/source"
)

// maxSkewOK is the largest clock offset api.clock accepts: servers that
// check a signed timestamp's age typically allow a minute or a few.
const maxSkewOK = 60 * time.Second

// apiProbe sends getCallList requests signed with chosen recipes. Signing
// is calllist.Signer's, as in the client; the probe only chooses the
// recipe, the type and the page size of each request.
type apiProbe struct {
	cfg     connector.SourceConfig
	url     string
	horizon time.Duration // the deepest re-scan horizon: every request asks for it
	http    *http.Client
	// offset is the server's clock minus ours once api.clock measured it;
	// later requests are stamped with the server's time, as the client's
	// are.
	offset time.Duration
}

// answer is the server's answer to one probe. err is the envelope's
// failure: a *calllist.CodeError, an error wrapping calllist.ErrMalformed,
// or an HTTP status; refusal describes it without secrets.
type answer struct {
	status         int
	date           string
	sent, received time.Time
	elapsed        time.Duration
	page           *calllist.Page
	err            error
	refusal        string
}

// accepted reports whether the server answered the request with a page.
func (a answer) accepted() bool { return a.err == nil && a.page != nil }

func newAPIProbe(cfg connector.SourceConfig) *apiProbe {
	// The default transport honours HTTPS_PROXY and friends, as the
	// client's does.
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = recipeWorkers
	return &apiProbe{
		cfg: cfg, url: strings.TrimSuffix(cfg.APIURL, "/") + calllist.Path,
		horizon: cfg.Schedule.Horizon(), http: &http.Client{Transport: t},
	}
}

// send makes one request for page 1 of the horizon's window, signed with
// s. Its error is a transport failure: no HTTP answer.
func (p *apiProbe) send(ctx context.Context, s calllist.Signer, typ string, pageSize int) (answer, error) {
	now := time.Now().Add(p.offset)
	body := calllist.NewRequest(now.Add(-p.horizon), now, typ, 1, pageSize).Body()
	ctx, cancel := context.WithTimeout(ctx, checkBudget)
	defer cancel()
	req, sign, err := source.NewSignedRequest(ctx, p.url, p.cfg.AppID, p.cfg.AppKey, s, now, body)
	if err != nil {
		return answer{}, err
	}
	a := answer{sent: time.Now()}
	resp, err := p.http.Do(req)
	if err != nil {
		return a, err // the URL and the cause; headers never appear here
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	a.received = time.Now()
	a.elapsed = a.received.Sub(a.sent)
	a.status, a.date = resp.StatusCode, resp.Header.Get("Date")
	if err != nil {
		return a, fmt.Errorf("reading the answer: %w", err)
	}
	secrets := []string{p.cfg.AppKey.Reveal(), sign.Reveal()}
	if a.status < 200 || a.status > 299 {
		a.err = fmt.Errorf("HTTP %d", a.status)
		a.refusal = fmt.Sprintf("HTTP %d, body %s", a.status, quoteVendor(string(raw), secrets))
		return a, nil
	}
	a.page, a.err = calllist.DecodePage(raw)
	var ce *calllist.CodeError
	switch {
	case errors.As(a.err, &ce):
		a.refusal = fmt.Sprintf("code %d %s", ce.Code, quoteVendor(ce.Message, secrets))
	case a.err != nil:
		a.refusal = a.err.Error() // names positions and kinds, quotes no value
	}
	return a, nil
}

// quoteVendor quotes a text the server sent, shortened, with the request's
// secrets replaced.
func quoteVendor(s string, secrets []string) string {
	for _, v := range secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, "<secret>")
		}
	}
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return strconv.Quote(strings.ToValidUTF8(s, "\uFFFD"))
}

// apiState is what the api.* checks learn on the way, for the checks
// after them.
type apiState struct {
	p          *apiProbe
	first      answer          // to api.reach's request
	signer     calllist.Signer // the recipe the server accepts (api.auth)
	page       *calllist.Page  // page 1, signed with it
	listed     *calllist.Page  // a page of calls, of listedType (api.type)
	listedType string
}

// apiChecks are the api.* checks, in order, of one source.
var apiChecks = []check[apiState]{
	{APIReach, nil, func(ctx context.Context, s *apiState) (Result, bool) {
		r, first := s.p.reach(ctx)
		s.first = first
		return r, r.OK
	}},
	{APIClock, []string{APIReach}, func(_ context.Context, s *apiState) (Result, bool) {
		return s.p.clock(s.first), true
	}},
	{APIAuth, []string{APIReach}, func(ctx context.Context, s *apiState) (Result, bool) {
		// A refused recipe with another the server accepts fails, and the
		// checks after it go on with that one.
		r, signer, page := s.p.auth(ctx, s.first)
		s.signer, s.page = signer, page
		return r, page != nil
	}},
	{APIType, []string{APIAuth}, func(ctx context.Context, s *apiState) (Result, bool) {
		// A type that lists nothing while another lists calls fails, and
		// the checks after it read the other's.
		r, listed, typ := s.p.checkType(ctx, s.signer, s.page)
		s.listed, s.listedType = listed, typ
		return r, listed != nil
	}},
	{APIPageSize, []string{APIAuth}, func(_ context.Context, s *apiState) (Result, bool) {
		return s.p.checkPageSize(s.page), true
	}},
	{APIDecode, []string{APIType}, func(_ context.Context, s *apiState) (Result, bool) {
		return checkDecode(s.listed, s.listedType), true
	}},
	{APIChanges, []string{APIType}, func(ctx context.Context, s *apiState) (Result, bool) {
		return s.p.checkChanges(ctx, s.signer, s.listedType), true
	}},
}

// reach checks DNS, TCP and TLS itself, step by step, so that a failure
// names its step, and then sends the first request with the configured
// recipe: any answer in the vendor's envelope, or a refusal of the
// credentials, means the API is there.
func (p *apiProbe) reach(ctx context.Context) (Result, answer) {
	u, _ := url.Parse(p.cfg.APIURL) // Validate has parsed it
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	var steps []string
	if proxy, err := http.ProxyFromEnvironment(&http.Request{URL: u}); err == nil && proxy != nil {
		steps = append(steps, "via proxy "+proxy.Host)
	} else {
		r, ok := p.dial(ctx, host, port, u.Scheme == "https")
		if !ok {
			return r, answer{}
		}
		steps = append(steps, r.Detail)
	}
	a, err := p.send(ctx, p.cfg.Signer, p.cfg.Type, p.cfg.PageSize)
	if err != nil {
		return fail(APIReach, fmt.Sprintf("HTTP: no answer from %s: %v", p.url, err),
			"the host accepts connections but does not answer HTTP there: check the scheme and port of --api-url"), a
	}
	steps = append(steps, fmt.Sprintf("HTTP %d in %s", a.status, fmtMillis(a.elapsed)))
	detail := strings.Join(steps, ", ")
	authRefused := a.status == http.StatusUnauthorized || a.status == http.StatusForbidden
	switch {
	case a.status == http.StatusNotFound:
		return fail(APIReach, detail+": nothing at "+p.url,
			"--api-url is the base URL (scheme, host, port and any path prefix); callstream appends "+calllist.Path), a
	case a.status >= 500:
		return fail(APIReach, detail+": the server fails",
			"the API answers with a server error: try again later, or ask the vendor whether the service is down"), a
	case !authRefused && (a.status < 200 || a.status > 299):
		return fail(APIReach, detail+": "+a.refusal,
			"--api-url must be the vendor's API base URL; check it, and any proxy between here and the vendor"), a
	case errors.Is(a.err, calllist.ErrMalformed):
		return fail(APIReach, detail+", but the body is not the getCallList envelope ("+a.refusal+")",
			"--api-url must be the vendor's API base URL; callstream appends "+calllist.Path), a
	}
	return pass(APIReach, detail), a
}

// dial resolves host, connects to it and, for https, shakes hands; the
// result names the step that failed.
func (p *apiProbe) dial(ctx context.Context, host, port string, useTLS bool) (Result, bool) {
	ctx, cancel := context.WithTimeout(ctx, checkBudget)
	defer cancel()
	var steps []string
	if net.ParseIP(host) == nil {
		addrs, err := net.DefaultResolver.LookupHost(ctx, host)
		if err != nil {
			return fail(APIReach, fmt.Sprintf("DNS: cannot resolve %s: %v", host, err),
				"check the host name in --api-url, and this host's DNS resolver (/etc/resolv.conf, the cluster's DNS)"), false
		}
		steps = append(steps, fmt.Sprintf("DNS %s → %s", host, strings.Join(addrs, " ")))
	}
	addr := net.JoinHostPort(host, port)
	var d net.Dialer
	start := time.Now()
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fail(APIReach, fmt.Sprintf("TCP: cannot connect to %s: %v", addr, err),
			"check the port in --api-url, and that no firewall, egress policy or missing proxy (HTTPS_PROXY) stops this host"), false
	}
	defer conn.Close()
	steps = append(steps, fmt.Sprintf("TCP %s in %s", addr, fmtMillis(time.Since(start))))
	if useTLS {
		tc := tls.Client(conn, &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12})
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail(APIReach, fmt.Sprintf("TLS: handshake with %s failed: %v", addr, err),
				"if the certificate is not trusted here, add its CA to this host's trust store (SSL_CERT_FILE); if the port speaks plain HTTP, use an http:// --api-url"), false
		}
		steps = append(steps, tls.VersionName(tc.ConnectionState().Version))
	}
	return Result{Detail: strings.Join(steps, ", ")}, true
}

// clock compares the server's Date header with our clock at the middle of
// the request, and keeps the offset for the requests that follow.
func (p *apiProbe) clock(a answer) Result {
	d, err := http.ParseTime(a.date)
	if err != nil {
		return pass(APIClock, "the server sends no Date header: its clock cannot be compared with ours")
	}
	mid := a.sent.Add(a.received.Sub(a.sent) / 2)
	// Date has whole seconds: the server wrote it somewhere in that second.
	p.offset = d.Add(500 * time.Millisecond).Sub(mid)
	skew := p.offset.Round(100 * time.Millisecond)
	how := "ahead of"
	if skew < 0 {
		how, skew = "behind", -skew
	}
	detail := fmt.Sprintf("the server's clock is %s %s ours (by its Date header, ±0.5s)", skew, how)
	if skew < time.Second {
		detail = "the server's clock agrees with ours within a second (by its Date header)"
	}
	if skew > maxSkewOK {
		return fail(APIClock, detail, fmt.Sprintf("synchronise this host's clock (NTP: chrony, systemd-timesyncd); "+
			"a server that checks signed timestamps refuses them when the clocks differ by more than it allows, "+
			"and callstream corrects its timestamps only once an answer has told it the skew; more than %s off is a clock nobody keeps", maxSkewOK))
	}
	return pass(APIClock, detail)
}

// fmtMillis writes a short duration in milliseconds: 0.4ms, 12ms.
func fmtMillis(d time.Duration) string {
	if d < 10*time.Millisecond {
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + "ms"
	}
	return d.Round(time.Millisecond).String()
}
