package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/callstream/callstream/internal/proc"
	"github.com/callstream/callstream/internal/settings"
)

// healthcheckFlags are the flags of callstream healthcheck.
type healthcheckFlags struct {
	url     string
	timeout time.Duration
}

func (f *healthcheckFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.url, "url", "http://127.0.0.1:9090/readyz", "URL to GET; any 2xx answer is healthy")
	fs.DurationVar(&f.timeout, "timeout", 3*time.Second, "give up after this long")
}

// cmdHealthcheck GETs a URL and exits 0 on a 2xx answer, 1 otherwise. It
// exists because the runtime image has no shell, curl or wget: container
// health checks run the binary itself, e.g. in docker-compose.yml
// `test: ["CMD", "/callstream", "healthcheck", "--url", "http://127.0.0.1:9090/readyz"]`.
func cmdHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	var f healthcheckFlags
	f.register(fs)
	if err := settings.Parse(fs, args, settings.NoEnv); err != nil {
		return flagExit(fs, stdout, stderr, "healthcheck", err)
	}
	u, err := url.Parse(f.url)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return exitStatus(stderr, "healthcheck", settings.Usagef("--url: want an http(s) URL, got %q", f.url))
	case f.timeout <= 0:
		return exitStatus(stderr, "healthcheck", settings.Usagef("--timeout: want more than 0, got %s", f.timeout))
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	status, err := proc.Probe(ctx, u.String())
	if err != nil {
		return exitStatus(stderr, "healthcheck", err)
	}
	fmt.Fprintf(stdout, "%s %s\n", u.Redacted(), status)
	return 0
}
