package netdelay

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// Bytes pass through intact and in order both ways, and a read deadline
// is kept without breaking the connection.
func TestConnPassesBytesInOrder(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.Copy(c, c) // echo
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := Wrap(raw, 5*time.Millisecond)
	defer c.Close()
	if err := c.SetReadDeadline(time.Now().Add(time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read before anything was sent = %v, want a deadline error", err)
	}
	// A deadline set while a Read waits ends it, as franz-go sets one to
	// interrupt a read.
	_ = c.SetReadDeadline(time.Time{})
	go func() {
		time.Sleep(10 * time.Millisecond)
		_ = c.SetReadDeadline(time.Now())
	}()
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read interrupted by a deadline = %v, want a deadline error", err)
	}
	_ = c.SetReadDeadline(time.Time{})
	want := bytes.Repeat([]byte("0123456789"), 50_000)
	go func() {
		for i := 0; i < len(want); i += 7_000 {
			_, _ = c.Write(want[i:min(i+7_000, len(want))])
		}
	}()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("echoed bytes differ from those written")
	}
}
