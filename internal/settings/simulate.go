package settings

import (
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/callstream/callstream/connector/security"
	"github.com/callstream/callstream/secret"
	"github.com/callstream/callstream/simulator"
	"go.yaml.in/yaml/v3"
)

// Simulate are the settings of callstream simulate.
type Simulate struct {
	// Listen is the HOST:PORT to serve the API on.
	Listen string
	// Apps is the file of --apps, listing several apps; empty: one app,
	// the flags'.
	Apps string
	// Log are the logging settings.
	Log Log

	appID, appKey, appKeyFile, sign, faults  string
	types                                    string
	seed                                     int64
	history, calls, maxPageSize, brokenEvery int
	historySpan, convertAfter                time.Duration
	rate, failRatio                          float64
}

// Register defines simulate's flags on fs.
func (f *Simulate) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Listen, "listen", "", "HOST:PORT to serve the API on (required)")
	fs.StringVar(&f.appID, "app-id", "", "the appId requests must carry (required without --apps)")
	fs.StringVar(&f.Apps, "apps", "", "YAML or JSON file listing several apps, each a mapping of simulate flags (app-id, app-key, seed, rate, types, …) over the others; "+
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
	f.Log.Register(fs)
}

// Config validates the flags into the config of one app; every error
// names its flag and is a usage error.
func (f *Simulate) Config() (simulator.Config, error) {
	var c simulator.Config
	key, err := security.Password(secret.String(f.appKey), f.appKeyFile, "--app-key")
	if err != nil {
		return c, Usagef("%v", err)
	}
	types := strings.Split(f.types, ",")
	switch {
	case f.Listen == "":
		return c, Usagef("--listen: required")
	case f.appID == "":
		return c, Usagef("--app-id: required")
	case key.Reveal() == "":
		return c, Usagef("--app-key: required (or --app-key-file)")
	case slices.Contains(types, ""):
		return c, Usagef("--types: want request types separated by commas, got %q", f.types)
	case f.maxPageSize < 1:
		return c, Usagef("--max-page-size: want at least 1, got %d", f.maxPageSize)
	case f.brokenEvery < 0:
		return c, Usagef("--broken-every: want at least 0, got %d", f.brokenEvery)
	case f.history < 0:
		return c, Usagef("--history: want at least 0, got %d", f.history)
	case f.historySpan < 0:
		return c, Usagef("--history-span: want at least 0, got %s", f.historySpan)
	case f.calls < 0:
		return c, Usagef("--calls: want at least 0, got %d", f.calls)
	case f.rate < 0 || math.IsNaN(f.rate) || math.IsInf(f.rate, 0):
		return c, Usagef("--rate: want a number at least 0, got %v", f.rate)
	case f.rate == 0 && f.calls > 0:
		return c, Usagef("--rate: 0 means no new calls, but --calls asks for %d", f.calls)
	case f.convertAfter < 0:
		return c, Usagef("--convert-after: want at least 0, got %s", f.convertAfter)
	case !(f.failRatio >= 0 && f.failRatio <= 1):
		return c, Usagef("--fail-ratio: want 0..1, got %v", f.failRatio)
	}
	faults, err := simulator.ParseFaults(f.faults)
	if err != nil {
		return c, Usagef("--faults: %v", err)
	}
	if err := simulator.CheckSign(f.sign); err != nil {
		return c, Usagef("--sign: %v", err)
	}
	return simulator.Config{
		AppID: f.appID, AppKey: key, Sign: f.sign, Types: types, MaxPageSize: f.maxPageSize, Seed: f.seed,
		History: f.history, HistorySpan: f.historySpan, Calls: f.calls, Rate: f.rate,
		ConvertAfter: f.convertAfter, FailRatio: f.failRatio, FaultSpec: faults, BrokenEvery: f.brokenEvery,
	}, nil
}

// AppConfigs reads the --apps file: a list of mappings whose keys are
// simulate flags, each set over the flags of the command line args.
func (f *Simulate) AppConfigs(args []string) ([]simulator.Config, error) {
	path := f.Apps
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Usagef("--apps: %v", err)
	}
	var entries []map[string]any
	if err := yaml.Unmarshal(data, &entries); err != nil {
		return nil, Usagef("--apps %s: want a list of apps: %v", path, OneLine(err))
	}
	if len(entries) == 0 {
		return nil, Usagef("--apps %s: no app listed", path)
	}
	cfgs := make([]simulator.Config, 0, len(entries))
	for i, m := range entries {
		values, k, err := scalars(m)
		if err != nil {
			return nil, Usagef("--apps %s: app %d: %s: %v", path, i, k, err)
		}
		fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
		var app Simulate
		app.Register(fs)
		e := entry{
			values: values, where: fmt.Sprintf("--apps %s: app %d", path, i), keySep: ": ", notA: "a setting of one app",
			allowed: func(k string) bool { return fs.Lookup(k) != nil && k != "listen" && k != "apps" && k != "config" },
		}
		if err := e.overlay(fs, args, NoEnv, &app.appKey, &app.appKeyFile); err != nil {
			return nil, err
		}
		c, err := app.Config()
		if err != nil {
			return nil, Usagef("--apps %s: app %d: %v", path, i, err)
		}
		cfgs = append(cfgs, c)
	}
	return cfgs, nil
}
