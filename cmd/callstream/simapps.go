package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net"
	"os"

	"github.com/callstream/callstream/simulator"
	"go.yaml.in/yaml/v3"
)

// simulateApps serves the apps of --apps on --listen until ctx is done.
func simulateApps(ctx context.Context, f *simulateFlags, args []string, logger *slog.Logger, stderr io.Writer) int {
	cfgs, err := appConfigs(f.apps, args)
	if err != nil {
		return exitStatus(stderr, "simulate", err)
	}
	apps, err := simulator.NewApps(cfgs)
	if err != nil {
		return exitStatus(stderr, "simulate", usagef("--apps: %v", err))
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return exitStatus(stderr, "simulate", usagef("--listen: %v", err))
	}
	for _, c := range cfgs {
		logger.Info("simulated app", "app_id", c.AppID, "types", c.Types, "seed", c.Seed, "history", c.History,
			"calls", c.Calls, "rate", c.Rate, "faults", c.FaultSpec.String())
	}
	logger.Info("simulator listening", "addr", ln.Addr().String(), "apps", len(cfgs))
	if err := apps.Serve(ctx, ln); err != nil {
		return exitStatus(stderr, "simulate", err)
	}
	logger.Info("simulator stopped")
	return 0
}

// appConfigs reads the --apps file: a list of mappings whose keys are
// simulate flags, each set over the flags of the command line.
func appConfigs(path string, args []string) ([]simulator.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--apps: %v", err)
	}
	var entries []map[string]any
	if err := yaml.Unmarshal(data, &entries); err != nil {
		return nil, usagef("--apps %s: want a list of apps: %v", path, oneLine(err))
	}
	if len(entries) == 0 {
		return nil, usagef("--apps %s: no app listed", path)
	}
	cfgs := make([]simulator.Config, 0, len(entries))
	for i, e := range entries {
		fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
		var af simulateFlags
		af.register(fs)
		if err := parseLayered(fs, args, noEnv); err != nil {
			return nil, err
		}
		keys := entryKeys(e, &af.appKey, &af.appKeyFile)
		for _, k := range keys {
			if fs.Lookup(k) == nil || k == "listen" || k == "apps" || k == "config" {
				return nil, usagef("--apps %s: app %d: %q is not a setting of one app", path, i, k)
			}
			v, err := scalar(e[k])
			if err != nil {
				return nil, usagef("--apps %s: app %d: %s: %v", path, i, k, err)
			}
			if err := fs.Set(k, v); err != nil {
				return nil, usagef("--apps %s: app %d: %s: invalid value: %v", path, i, k, err)
			}
		}
		c, err := af.config()
		if err != nil {
			return nil, usagef("--apps %s: app %d: %v", path, i, err)
		}
		cfgs = append(cfgs, c)
	}
	return cfgs, nil
}
