package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

// startBroker starts a single-node Kafka-compatible broker (franz-go's
// kfake) on addr, keeping its log in dataDir when set; a log that a crash
// left with transactions aborted and no marker gets its markers first
// (closeAbortedTxns).
func startBroker(ctx context.Context, addr, dataDir string, partitions int, log *slog.Logger) (*kfake.Cluster, error) {
	_, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, usagef("--listen: %v", err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, usagef("--listen: port %q is not a number", portStr)
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		// kfake listens on 127.0.0.1 by default; bind the host asked for.
		kfake.ListenFn(func(network, _ string) (net.Listener, error) { return net.Listen(network, addr) }),
		kfake.DefaultNumPartitions(partitions),
		kfake.AllowAutoTopicCreation(),
	}
	if dataDir != "" {
		if err := os.MkdirAll(dataDir, 0o755); err != nil {
			return nil, fmt.Errorf("creating --data-dir: %w", err)
		}
		if _, err := closeAbortedTxns(ctx, dataDir, log); err != nil {
			return nil, fmt.Errorf("repairing --data-dir: %w", err)
		}
		opts = append(opts, kfake.DataDir(dataDir))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("starting broker: %w", err)
	}
	return c, nil
}

func cmdBroker(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("broker", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:9092", "HOST:PORT to listen on")
	dataDir := fs.String("data-dir", "", "directory that keeps the log across restarts")
	partitions := fs.Int("partitions", 3, "default partitions of created topics")
	registryListen := fs.String("registry-listen", "", "HOST:PORT to serve a Schema Registry on as well (in memory, for development); empty: none")
	var lf logFlags
	lf.register(fs)
	if err := parseLayered(fs, args, noEnv); err != nil {
		return flagExit(fs, stdout, stderr, "broker", err)
	}
	if *partitions < 1 {
		return exitStatus(stderr, "broker", usagef("--partitions: want at least 1"))
	}
	logger, err := lf.logger(stderr)
	if err != nil {
		return exitStatus(stderr, "broker", err)
	}
	if *registryListen != "" {
		if _, _, err := net.SplitHostPort(*registryListen); err != nil {
			return exitStatus(stderr, "broker", usagef("--registry-listen: %v", err))
		}
	}
	c, err := startBroker(ctx, *listen, *dataDir, *partitions, logger)
	if err != nil {
		return exitStatus(stderr, "broker", err)
	}
	logger.Info("broker listening", "addrs", c.ListenAddrs(), "data_dir", *dataDir)
	if *registryListen != "" {
		reg, err := startRegistry(*registryListen)
		if err != nil {
			c.Close()
			return exitStatus(stderr, "broker", err)
		}
		defer reg.Close()
		logger.Info("schema registry listening", "url", reg.url)
	}
	<-ctx.Done()
	c.Close()
	logger.Info("broker stopped")
	return 0
}

// devRegistry is a Schema Registry for development, franz-go's srfake,
// served over HTTP. It keeps its schemas in memory: they are gone when it
// stops, and a connector registers them again at its next start.
type devRegistry struct {
	srv *http.Server
	url string
}

// startRegistry serves a registry on addr until Close.
func startRegistry(addr string) (*devRegistry, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("starting schema registry: %w", err)
	}
	srv := &http.Server{Handler: srfake.NewRegistry().Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &devRegistry{srv: srv, url: "http://" + ln.Addr().String()}, nil
}

// Close stops serving, closing open connections.
func (r *devRegistry) Close() { _ = r.srv.Close() }

// noEnv is the environment of commands whose flags have no variables.
func noEnv(string) (string, bool) { return "", false }
