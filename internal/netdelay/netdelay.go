// Package netdelay adds network latency to TCP connections, for
// benchmarks of what a round trip costs: every byte written or read
// through a Conn arrives a fixed delay later than it would, as over a
// network whose round trip is twice that delay. Bandwidth is not limited.
//
// A Kafka client dials the addresses the brokers advertise, not only its
// seeds, so a proxy listening in front of a broker would be bypassed after
// the first metadata request; delaying the client's own connections
// (kgo.Dialer(netdelay.Dialer(d))) delays every one of them.
package netdelay

import (
	"context"
	"net"
	"os"
	"sync"
	"time"
)

// Dialer returns a dial function whose connections delay every byte by
// oneWay in each direction: a round trip costs 2×oneWay more.
func Dialer(oneWay time.Duration) func(ctx context.Context, network, host string) (net.Conn, error) {
	var d net.Dialer
	return func(ctx context.Context, network, host string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, host)
		if err != nil {
			return nil, err
		}
		return Wrap(c, oneWay), nil
	}
}

// chunk is data in flight, due at a time.
type chunk struct {
	data []byte
	due  time.Time
	err  error
}

// Conn is a net.Conn whose reads and writes arrive a delay late. Read
// deadlines are kept by Conn itself, not the connection below it, which a
// background reader reads all the time.
type Conn struct {
	net.Conn
	delay time.Duration

	reads  chan chunk
	writes chan chunk
	closed chan struct{}
	once   sync.Once

	rbuf []byte
	rerr error

	mu       sync.Mutex
	deadline time.Time
	werr     error
	// deadlineSet wakes a Read that waits when the deadline changes.
	deadlineSet chan struct{}
}

// Wrap delays c by oneWay each way.
func Wrap(c net.Conn, oneWay time.Duration) *Conn {
	dc := &Conn{Conn: c, delay: oneWay, reads: make(chan chunk, 1024), writes: make(chan chunk, 1024), closed: make(chan struct{}),
		deadlineSet: make(chan struct{}, 1)}
	go dc.readLoop()
	go dc.writeLoop()
	return dc
}

func (c *Conn) readLoop() {
	for {
		buf := make([]byte, 64<<10)
		n, err := c.Conn.Read(buf)
		select {
		case c.reads <- chunk{data: buf[:n], due: time.Now().Add(c.delay), err: err}:
		case <-c.closed:
			return
		}
		if err != nil {
			return
		}
	}
}

func (c *Conn) writeLoop() {
	for {
		select {
		case ch := <-c.writes:
			time.Sleep(time.Until(ch.due))
			if _, err := c.Conn.Write(ch.data); err != nil {
				c.mu.Lock()
				c.werr = err
				c.mu.Unlock()
				return
			}
		case <-c.closed:
			return
		}
	}
}

// Read returns data once its delay has passed. A read deadline set while
// it waits (as kgo sets one to interrupt a read) ends it, as on a
// net.Conn.
func (c *Conn) Read(p []byte) (int, error) {
	for len(c.rbuf) == 0 {
		if c.rerr != nil {
			return 0, c.rerr
		}
		c.mu.Lock()
		deadline := c.deadline
		c.mu.Unlock()
		var timeout <-chan time.Time
		if !deadline.IsZero() {
			if !time.Now().Before(deadline) {
				return 0, os.ErrDeadlineExceeded
			}
			t := time.NewTimer(time.Until(deadline))
			defer t.Stop()
			timeout = t.C
		}
		select {
		case ch := <-c.reads:
			time.Sleep(time.Until(ch.due))
			c.rbuf, c.rerr = ch.data, ch.err
		case <-timeout:
			return 0, os.ErrDeadlineExceeded
		case <-c.deadlineSet:
			continue // look at the new deadline
		case <-c.closed:
			return 0, net.ErrClosed
		}
	}
	n := copy(p, c.rbuf)
	c.rbuf = c.rbuf[n:]
	return n, nil
}

// Write queues p to be sent after the delay; an error of an earlier write
// is returned.
func (c *Conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	err := c.werr
	c.mu.Unlock()
	if err != nil {
		return 0, err
	}
	data := append([]byte(nil), p...)
	select {
	case c.writes <- chunk{data: data, due: time.Now().Add(c.delay)}:
		return len(p), nil
	case <-c.closed:
		return 0, net.ErrClosed
	}
}

// SetDeadline sets the read deadline that Read keeps; writes are queued.
func (c *Conn) SetDeadline(t time.Time) error { return c.SetReadDeadline(t) }

// SetReadDeadline sets the deadline of Read.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	c.mu.Unlock()
	select {
	case c.deadlineSet <- struct{}{}:
	default:
	}
	return nil
}

// SetWriteDeadline does nothing: writes are queued at once.
func (c *Conn) SetWriteDeadline(time.Time) error { return nil }

// Close closes the connection and stops its delays.
func (c *Conn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}
