package proc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Probe GETs rawURL and fails unless the answer is 2xx. The error names the
// URL without its password, and the status or the transport failure.
func Probe(ctx context.Context, rawURL string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return "", fmt.Errorf("building the request: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		// The *url.Error of a failed request repeats the whole URL; keep
		// only its cause and name the URL redacted.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Errorf("getting %s: %w", req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	// Drain a little so the connection closes cleanly; the body is not read.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", fmt.Errorf("getting %s: %s", req.URL.Redacted(), resp.Status)
	}
	return resp.Status, nil
}

// AwaitReady waits until url (a readiness endpoint of the process, such
// as the connector's /readyz) answers 2xx. It fails when the process ends
// first or ctx is done.
func (p *Process) AwaitReady(ctx context.Context, url string) error {
	for {
		if _, err := Probe(ctx, url); err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it was ready: %v", p.name, p.err)
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s to be ready: %w", p.name, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
