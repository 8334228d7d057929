package source

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Kind classifies a failed request. The values are the label values of the
// callstream_api_errors_total metric.
type Kind string

// The kinds of failure. Every kind is worth retrying; KindAuth only slowly,
// since it needs a person to fix the app key or the sign recipe.
const (
	// KindTransport: no HTTP response (dial, TLS, timeout, reset while
	// reading the body).
	KindTransport Kind = "transport"
	// KindHTTP: an HTTP status other than 2xx, 401 and 403; 429 and 5xx may
	// carry a RetryAfter.
	KindHTTP Kind = "http"
	// KindBusiness: the envelope's code is neither 0 nor an auth code.
	KindBusiness Kind = "business"
	// KindDecode: the body is not the envelope we expect (malformed or
	// truncated JSON, no code, no data, a page number we did not ask for).
	KindDecode Kind = "decode"
	// KindAuth: HTTP 401 or 403, or a business code meaning the appId, appKey
	// or sign was refused.
	KindAuth Kind = "auth"
)

// Kinds returns every Kind, for example to initialise the label values of
// a metric so that its series exist before the first failure.
func Kinds() []Kind {
	return []Kind{KindTransport, KindHTTP, KindBusiness, KindDecode, KindAuth}
}

// authCodes are the envelope codes that mean the request's credentials or
// sign were refused. The simulator answers 401 for a bad sign.
var authCodes = map[int]bool{401: true, 403: true}

// APIError is a failed getCallList request, classified where it failed. It
// never holds the app key, the sign or the request's headers; texts the
// vendor sent back are quoted, shortened and scrubbed of both.
type APIError struct {
	Kind       Kind
	Status     int           // HTTP status, 0 if no response
	Code       int           // the envelope's code for KindBusiness and KindAuth
	RetryAfter time.Duration // from Retry-After, 0 if absent
	Err        error         // what went wrong, without secrets
}

// Error implements error, e.g. "http error (status 503, retry after 2s):
// service unavailable".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Kind))
	b.WriteString(" error")
	var attrs []string
	if e.Status != 0 {
		attrs = append(attrs, "status "+strconv.Itoa(e.Status))
	}
	if e.Code != 0 {
		attrs = append(attrs, "code "+strconv.Itoa(e.Code))
	}
	if e.RetryAfter > 0 {
		attrs = append(attrs, "retry after "+e.RetryAfter.String())
	}
	if len(attrs) > 0 {
		b.WriteString(" (" + strings.Join(attrs, ", ") + ")")
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *APIError) Unwrap() error { return e.Err }

// KindOf returns the Kind of the *APIError that err wraps, or "" if it wraps
// none (a cancelled context, ErrWindowDrift, a *TooManyPagesError).
func KindOf(err error) Kind {
	var e *APIError
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

// ErrWindowDrift is returned by ReadWindow when a window kept changing while
// it was paged, through all the rereads allowed by Config.MaxRereads.
var ErrWindowDrift = errors.New("window changed while paging")

// ErrTooManyPages is wrapped by every *TooManyPagesError, for errors.Is.
var ErrTooManyPages = errors.New("too many pages")

// TooManyPagesError is returned by ReadWindow after page 1 when the window
// holds more than Config.MaxPages pages: the caller should Split the window
// and read each half.
type TooManyPagesError struct {
	TotalPage int // pages the window holds
	MaxPages  int // the configured cap
}

// Error implements error.
func (e *TooManyPagesError) Error() string {
	return fmt.Sprintf("too many pages: %d, more than %d", e.TotalPage, e.MaxPages)
}

// Unwrap returns ErrTooManyPages.
func (e *TooManyPagesError) Unwrap() error { return ErrTooManyPages }

// vendorText quotes a text the vendor sent back for an error message: at
// most 200 bytes, valid UTF-8, with the secrets of the request replaced.
func vendorText(s string, secrets ...string) string {
	for _, v := range secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, "<secret>")
		}
	}
	const maxLen = 200
	if len(s) > maxLen {
		s = s[:maxLen] + "…"
	}
	return strconv.Quote(strings.ToValidUTF8(s, "\uFFFD"))
}

// parseRetryAfter reads a Retry-After header: delay seconds, or an HTTP
// date taken relative to now. It returns 0 when absent, malformed or past.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		const maxSeconds = int64(24 * time.Hour / time.Second)
		return time.Duration(min(n, maxSeconds)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
