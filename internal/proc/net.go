package proc

import (
	"context"
	"fmt"
	"net"
	"time"
)

// FreeAddr returns a loopback address with a port free at the time: a
// child process told to listen on it will most likely find it still free.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// AwaitListening waits until addr accepts TCP connections. It fails when
// the process ends first or ctx is done.
func (p *Process) AwaitListening(ctx context.Context, addr string) error {
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before listening on %s: %v", p.name, addr, p.err)
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s on %s: %w", p.name, addr, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
