package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net"

	"github.com/callstream/callstream/internal/settings"
	"github.com/callstream/callstream/simulator"
)

// cmdSimulate serves a simulator of the vendor API until ctx is done.
func cmdSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	var f settings.Simulate
	f.Register(fs)
	if err := settings.Parse(fs, args, settings.NoEnv); err != nil {
		return flagExit(fs, stdout, stderr, "simulate", err)
	}
	logger, err := f.Log.Logger(stderr)
	if err != nil {
		return exitStatus(stderr, "simulate", err)
	}
	if f.Apps != "" {
		return simulateApps(ctx, &f, args, logger, stderr)
	}
	cfg, err := f.Config()
	if err != nil {
		return exitStatus(stderr, "simulate", err)
	}
	sim, err := simulator.New(cfg)
	if err != nil {
		return exitStatus(stderr, "simulate", err)
	}
	ln, err := net.Listen("tcp", f.Listen)
	if err != nil {
		return exitStatus(stderr, "simulate", settings.Usagef("--listen: %v", err))
	}
	logger.Info("simulator listening", "addr", ln.Addr().String(), "app_id", cfg.AppID, "sign", cfg.Sign, "types", cfg.Types, "max_page_size", cfg.MaxPageSize, "broken_every", cfg.BrokenEvery,
		"seed", cfg.Seed, "history", cfg.History, "calls", cfg.Calls, "rate", cfg.Rate, "faults", cfg.FaultSpec.String())
	if err := sim.Serve(ctx, ln); err != nil {
		return exitStatus(stderr, "simulate", err)
	}
	logger.Info("simulator stopped")
	return 0
}

// simulateApps serves the apps of --apps on --listen until ctx is done.
func simulateApps(ctx context.Context, f *settings.Simulate, args []string, logger *slog.Logger, stderr io.Writer) int {
	cfgs, err := f.AppConfigs(args)
	if err != nil {
		return exitStatus(stderr, "simulate", err)
	}
	apps, err := simulator.NewApps(cfgs)
	if err != nil {
		return exitStatus(stderr, "simulate", settings.Usagef("--apps: %v", err))
	}
	ln, err := net.Listen("tcp", f.Listen)
	if err != nil {
		return exitStatus(stderr, "simulate", settings.Usagef("--listen: %v", err))
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
