package main

import (
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// lossyListener hands kfake connections that lose the answer to an EndTxn
// request while armed: the broker applies the request, and the connection
// closes instead of carrying its answer, so the client cannot know whether
// its commit happened.
type lossyListener struct {
	net.Listener
	armed atomic.Int32 // EndTxn answers still to lose
	lost  atomic.Int32
}

func (l *lossyListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &lossyConn{Conn: c, l: l, lose: map[int32]bool{}}, nil
}

// lossyConn follows the request frames the broker reads (size, key,
// version, correlation id) to learn which answers belong to EndTxn.
type lossyConn struct {
	net.Conn
	l    *lossyListener
	mu   sync.Mutex
	head []byte // the start of the frame being read
	skip int    // bytes of the current frame's body left to pass
	lose map[int32]bool
}

func (c *lossyConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.follow(p[:n])
	return n, err
}

func (c *lossyConn) follow(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(b) > 0 {
		if c.skip > 0 {
			k := min(c.skip, len(b))
			c.skip, b = c.skip-k, b[k:]
			continue
		}
		k := min(12-len(c.head), len(b))
		c.head, b = append(c.head, b[:k]...), b[k:]
		if len(c.head) < 12 {
			return
		}
		size := int(binary.BigEndian.Uint32(c.head))
		key := int16(binary.BigEndian.Uint16(c.head[4:]))
		corr := int32(binary.BigEndian.Uint32(c.head[8:]))
		if key == int16(kmsg.EndTxn) && c.l.armed.Add(-1) >= 0 {
			c.lose[corr] = true
		}
		c.head, c.skip = c.head[:0], size-8
	}
}

func (c *lossyConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	lose := len(p) >= 8 && c.lose[int32(binary.BigEndian.Uint32(p[4:]))]
	c.mu.Unlock()
	if lose {
		c.l.lost.Add(1)
		c.Conn.Close()
		return 0, errors.New("answer lost on purpose")
	}
	return c.Conn.Write(p)
}

// TestKafkaResponsesLost drops and delays the broker's answers while the
// connector runs: produce and EndTxn answers delayed (kfake SleepControl),
// connections closed on produce requests (kfake ControlKey), and EndTxn
// answers lost after the broker applied the commit. Each pod rides the
// fault out or exits non-zero and is restarted; the output stays exactly
// once, under both transaction protocols.
func TestKafkaResponsesLost(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto.name, func(t *testing.T) {
			lossy := &lossyListener{}
			listen := kfake.ListenFn(func(network, addr string) (net.Listener, error) {
				ln, err := net.Listen(network, addr)
				lossy.Listener = ln
				return lossy, err
			})
			w := newWorld(t, worldConfig{kafka: append([]kfake.Opt{listen}, proto.opts...), args: oftenCommitted})
			sup := w.supervise(nil)
			rounds := crashCycles(t, 1)
			var delayed, dropped atomic.Int32
			for range rounds {
				w.awaitCommits(3, time.Minute)
				delayAnswers(w.cluster, kmsg.Produce, 3, 1500*time.Millisecond, &delayed)
				delayAnswers(w.cluster, kmsg.EndTxn, 2, 2*time.Second, &delayed)
				w.awaitCommits(3, time.Minute)
				dropConnections(w.cluster, kmsg.Produce, 2, &dropped)
				w.awaitCommits(3, time.Minute)
				lost := lossy.lost.Load()
				lossy.armed.Store(1)
				for deadline := time.Now().Add(time.Minute); lossy.lost.Load() == lost; {
					if time.Now().After(deadline) {
						t.Fatal("no EndTxn answer was lost within a minute")
					}
					time.Sleep(20 * time.Millisecond)
				}
				w.awaitCommits(3, time.Minute)
			}
			t.Logf("%d answers delayed, %d connections dropped, %d EndTxn answers lost; connector exits %v",
				delayed.Load(), dropped.Load(), lossy.lost.Load(), sup.restarts())
			if delayed.Load() == 0 || dropped.Load() == 0 || lossy.lost.Load() != int32(rounds) {
				t.Errorf("faults not all injected")
			}
			w.finish("kafka-answers-lost/"+proto.name, rounds, sup.release())
		})
	}
}

// delayAnswers holds the next n requests of key for d each before the
// broker handles them.
func delayAnswers(c *kfake.Cluster, key kmsg.Key, n int32, d time.Duration, count *atomic.Int32) {
	var seen atomic.Int32
	c.ControlKey(int16(key), func(kmsg.Request) (kmsg.Response, error, bool) {
		if seen.Add(1) >= n {
			c.DropControl()
		} else {
			c.KeepControl()
		}
		count.Add(1)
		c.SleepControl(func() { time.Sleep(d) })
		return nil, nil, false
	})
}

// dropConnections closes the connection of the next n requests of key
// without an answer, before the broker handles them.
func dropConnections(c *kfake.Cluster, key kmsg.Key, n int32, count *atomic.Int32) {
	var seen atomic.Int32
	c.ControlKey(int16(key), func(kmsg.Request) (kmsg.Response, error, bool) {
		// KeepControl sticks once called: drop the control explicitly.
		if seen.Add(1) < n {
			c.KeepControl()
		} else {
			c.DropControl()
		}
		count.Add(1)
		return nil, errors.New("connection dropped on purpose"), true
	})
}
