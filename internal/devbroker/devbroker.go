// Package devbroker is the development broker of `callstream broker`,
// `callstream demo` and the tests: a single-node Kafka-compatible broker
// (franz-go's kfake) whose log, kept in a directory, survives restarts and
// crashes (Repair), and a Schema Registry (franz-go's srfake) served over
// HTTP.
package devbroker

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

// DefaultPartitions is the partitions of a topic created without a count.
const DefaultPartitions = 3

// Options configure a broker. The zero value is a broker on a free
// loopback port, in memory, creating topics of DefaultPartitions.
type Options struct {
	// Listen is the HOST:PORT to listen on (default 127.0.0.1:0, a free
	// port); the broker binds the host asked for.
	Listen string
	// DataDir, when set, keeps the log across restarts: Start creates it
	// and repairs what a crash left (see Repair) before serving.
	DataDir string
	// Partitions of the topics created without a count (default
	// DefaultPartitions). Topics are created as clients ask for them.
	Partitions int
	// Logger gets the repair's warnings (nil: discarded).
	Logger *slog.Logger
	// Kfake are more options of the cluster, after the ones above: faults,
	// SASL, broker configs for tests.
	Kfake []kfake.Opt
}

// ListenError is a listen address that is not HOST:PORT with a numeric
// port: a mistake of the caller's, not of the broker's.
type ListenError struct{ Err error }

func (e *ListenError) Error() string { return e.Err.Error() }
func (e *ListenError) Unwrap() error { return e.Err }

// Start starts a broker with o.
func Start(ctx context.Context, o Options) (*kfake.Cluster, error) {
	addr := o.Listen
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	_, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, &ListenError{err}
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, &ListenError{fmt.Errorf("port %q is not a number", portStr)}
	}
	partitions := o.Partitions
	if partitions == 0 {
		partitions = DefaultPartitions
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		// kfake listens on 127.0.0.1 by default; bind the host asked for.
		kfake.ListenFn(func(network, _ string) (net.Listener, error) { return net.Listen(network, addr) }),
		kfake.DefaultNumPartitions(partitions),
		kfake.AllowAutoTopicCreation(),
	}
	if o.DataDir != "" {
		if err := os.MkdirAll(o.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("creating the data directory: %w", err)
		}
		if _, err := Repair(ctx, o.DataDir, o.Logger); err != nil {
			return nil, fmt.Errorf("repairing the data directory: %w", err)
		}
		opts = append(opts, kfake.DataDir(o.DataDir))
	}
	c, err := kfake.NewCluster(append(opts, o.Kfake...)...)
	if err != nil {
		return nil, fmt.Errorf("starting broker: %w", err)
	}
	return c, nil
}

// Registry is a Schema Registry for development, franz-go's srfake,
// served over HTTP. It keeps its schemas in memory: they are gone when it
// stops, and a connector registers them again at its next start.
type Registry struct {
	srv *http.Server
	url string
}

// StartRegistry serves a registry on addr until Close.
func StartRegistry(addr string) (*Registry, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("starting schema registry: %w", err)
	}
	srv := &http.Server{Handler: srfake.NewRegistry().Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &Registry{srv: srv, url: "http://" + ln.Addr().String()}, nil
}

// URL is the registry's base URL, http://HOST:PORT.
func (r *Registry) URL() string { return r.url }

// Close stops serving, closing open connections.
func (r *Registry) Close() { _ = r.srv.Close() }

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
