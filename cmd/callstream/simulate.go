package main

import (
	"context"
	"flag"
	"io"
	"math"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/callstream/callstream/secret"
	"github.com/callstream/callstream/simulator"
)

// simulateFlags are the flags of callstream simulate.
type simulateFlags struct {
	listen, appID, appKey, appKeyFile, sign, faults string
	apps                                            string
	types                                           string
	seed                                            int64
	history, calls, maxPageSize, brokenEvery        int
	historySpan, convertAfter                       time.Duration
	rate, failRatio                                 float64
	log                                             logFlags
}

func (f *simulateFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.listen, "listen", "", "HOST:PORT to serve the API on (required)")
	fs.StringVar(&f.appID, "app-id", "", "the appId requests must carry (required without --apps)")
	fs.StringVar(&f.apps, "apps", "", "YAML or JSON file listing several apps, each a mapping of simulate flags (app-id, app-key, seed, rate, types, …) over the others; "+
		"all on --listen, GET /_sim/records?app-id=ID answering for one")
	fs.StringVar(&f.appKey, "app-key", "", "the appKey requests must carry and sign with")
	fs.StringVar(&f.appKeyFile, "app-key-file", "", "file holding the app key, instead of --app-key")
	fs.StringVar(&f.sign, "sign", simulator.DefaultSign, "sign recipe DIGEST:FIELD+FIELD…:CASE:UNIT, as the client's --sign")
	fs.StringVar(&f.types, "types", strings.Join(simulator.DefaultTypes, ","),
		"request types, comma-separated, that list the calls; any other type is answered code 0 with an empty page, "+
			"as a real server would (the vendor documents chat; records say \"type\":\"call\" whatever was asked)")
	fs.IntVar(&f.maxPageSize, "max-page-size", simulator.DefaultMaxPageSize,
		"most records a page: a larger pageSize is answered with this many and says so in its pageSize")
	fs.Int64Var(&f.seed, "seed", 1, "seed of the made-up calls")
	fs.IntVar(&f.history, "history", 0, "calls that exist at the start")
	fs.DurationVar(&f.historySpan, "history-span", time.Hour, "the history's calls are spread over this span before the start")
	fs.IntVar(&f.calls, "calls", 0, "new calls to arrive after the start (0: no end)")
	fs.Float64Var(&f.rate, "rate", 1, "new calls per second (0: none)")
	fs.DurationVar(&f.convertAfter, "convert-after", 30*time.Second, "how long a call stays in status 1 (converting)")
	fs.Float64Var(&f.failRatio, "fail-ratio", 0.1, "share of calls whose conversion fails (status 0)")
	fs.IntVar(&f.brokenEvery, "broken-every", 0,
		"every Nth call (in order of arrival, history included) gets content that is not JSON once converted or failed: "+
			"a dead letter early and at a known pace (0: off; --faults broken-json=P picks a share by the seed instead)")
	fs.StringVar(&f.faults, "faults", "", "faults to inject, NAME=VALUE,… e.g. http500=0.05,http429=0.05,slow=0.02:3s,skew=90s (see README)")
	f.log.register(fs)
}

// config validates the flags into a simulator config; every error names
// its flag and is a usage error.
func (f *simulateFlags) config() (simulator.Config, error) {
	var c simulator.Config
	key, err := f.readAppKey()
	if err != nil {
		return c, err
	}
	types := strings.Split(f.types, ",")
	switch {
	case f.listen == "":
		return c, usagef("--listen: required")
	case f.appID == "":
		return c, usagef("--app-id: required")
	case key.Reveal() == "":
		return c, usagef("--app-key: required (or --app-key-file)")
	case slices.Contains(types, ""):
		return c, usagef("--types: want request types separated by commas, got %q", f.types)
	case f.maxPageSize < 1:
		return c, usagef("--max-page-size: want at least 1, got %d", f.maxPageSize)
	case f.brokenEvery < 0:
		return c, usagef("--broken-every: want at least 0, got %d", f.brokenEvery)
	case f.history < 0:
		return c, usagef("--history: want at least 0, got %d", f.history)
	case f.historySpan < 0:
		return c, usagef("--history-span: want at least 0, got %s", f.historySpan)
	case f.calls < 0:
		return c, usagef("--calls: want at least 0, got %d", f.calls)
	case f.rate < 0 || math.IsNaN(f.rate) || math.IsInf(f.rate, 0):
		return c, usagef("--rate: want a number at least 0, got %v", f.rate)
	case f.rate == 0 && f.calls > 0:
		return c, usagef("--rate: 0 means no new calls, but --calls asks for %d", f.calls)
	case f.convertAfter < 0:
		return c, usagef("--convert-after: want at least 0, got %s", f.convertAfter)
	case !(f.failRatio >= 0 && f.failRatio <= 1):
		return c, usagef("--fail-ratio: want 0..1, got %v", f.failRatio)
	}
	faults, err := simulator.ParseFaults(f.faults)
	if err != nil {
		return c, usagef("--faults: %v", err)
	}
	if err := simulator.CheckSign(f.sign); err != nil {
		return c, usagef("--sign: %v", err)
	}
	return simulator.Config{
		AppID: f.appID, AppKey: key, Sign: f.sign, Types: types, MaxPageSize: f.maxPageSize, Seed: f.seed,
		History: f.history, HistorySpan: f.historySpan, Calls: f.calls, Rate: f.rate,
		ConvertAfter: f.convertAfter, FailRatio: f.failRatio, FaultSpec: faults, BrokenEvery: f.brokenEvery,
	}, nil
}

func (f *simulateFlags) readAppKey() (secret.String, error) {
	if f.appKeyFile == "" {
		return secret.String(f.appKey), nil
	}
	if f.appKey != "" {
		return "", usagef("--app-key-file: give the app key once, not also --app-key")
	}
	b, err := os.ReadFile(f.appKeyFile)
	if err != nil {
		return "", usagef("--app-key-file: %v", err)
	}
	return secret.String(strings.TrimSpace(string(b))), nil
}

// cmdSimulate serves a simulator of the vendor API until ctx is done.
func cmdSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	var f simulateFlags
	f.register(fs)
	if err := parseLayered(fs, args, noEnv); err != nil {
		return flagExit(fs, stdout, stderr, "simulate", err)
	}
	logger, err := f.log.logger(stderr)
	if err != nil {
		return exitStatus(stderr, "simulate", err)
	}
	if f.apps != "" {
		return simulateApps(ctx, &f, args, logger, stderr)
	}
	cfg, err := f.config()
	if err != nil {
		return exitStatus(stderr, "simulate", err)
	}
	sim, err := simulator.New(cfg)
	if err != nil {
		return exitStatus(stderr, "simulate", err)
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return exitStatus(stderr, "simulate", usagef("--listen: %v", err))
	}
	logger.Info("simulator listening", "addr", ln.Addr().String(), "app_id", cfg.AppID, "sign", cfg.Sign, "types", cfg.Types, "max_page_size", cfg.MaxPageSize, "broken_every", cfg.BrokenEvery,
		"seed", cfg.Seed, "history", cfg.History, "calls", cfg.Calls, "rate", cfg.Rate, "faults", cfg.FaultSpec.String())
	if err := sim.Serve(ctx, ln); err != nil {
		return exitStatus(stderr, "simulate", err)
	}
	logger.Info("simulator stopped")
	return 0
}
