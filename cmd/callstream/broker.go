package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"net"

	"github.com/callstream/callstream/internal/devbroker"
	"github.com/callstream/callstream/internal/settings"
	"github.com/twmb/franz-go/pkg/kfake"
)

func cmdBroker(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("broker", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:9092", "HOST:PORT to listen on")
	dataDir := fs.String("data-dir", "", "directory that keeps the log across restarts")
	partitions := fs.Int("partitions", devbroker.DefaultPartitions, "default partitions of created topics")
	registryListen := fs.String("registry-listen", "", "HOST:PORT to serve a Schema Registry on as well (in memory, for development); empty: none")
	var lf settings.Log
	lf.Register(fs)
	if err := settings.Parse(fs, args, settings.NoEnv); err != nil {
		return flagExit(fs, stdout, stderr, "broker", err)
	}
	if *partitions < 1 {
		return exitStatus(stderr, "broker", settings.Usagef("--partitions: want at least 1"))
	}
	logger, err := lf.Logger(stderr)
	if err != nil {
		return exitStatus(stderr, "broker", err)
	}
	if *registryListen != "" {
		if _, _, err := net.SplitHostPort(*registryListen); err != nil {
			return exitStatus(stderr, "broker", settings.Usagef("--registry-listen: %v", err))
		}
	}
	c, err := startBroker(ctx, devbroker.Options{Listen: *listen, DataDir: *dataDir, Partitions: *partitions, Logger: logger})
	if err != nil {
		return exitStatus(stderr, "broker", err)
	}
	logger.Info("broker listening", "addrs", c.ListenAddrs(), "data_dir", *dataDir)
	if *registryListen != "" {
		reg, err := devbroker.StartRegistry(*registryListen)
		if err != nil {
			c.Close()
			return exitStatus(stderr, "broker", err)
		}
		defer reg.Close()
		logger.Info("schema registry listening", "url", reg.URL())
	}
	<-ctx.Done()
	c.Close()
	logger.Info("broker stopped")
	return 0
}

// startBroker is devbroker.Start, a bad address a usage error of --listen.
func startBroker(ctx context.Context, o devbroker.Options) (*kfake.Cluster, error) {
	c, err := devbroker.Start(ctx, o)
	var le *devbroker.ListenError
	if errors.As(err, &le) {
		return nil, settings.Usagef("--listen: %v", le.Err)
	}
	return c, err
}
