//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package state

import "sync/atomic"

// mappedBytes stays 0 here.
var mappedBytes atomic.Int64

// canMap reports whether mapSlots maps memory on this system.
const canMap = false

// mapSlots maps no memory here: every segment is on the Go heap.
func mapSlots(int) []byte { return nil }

// unmapSlots has nothing to release here.
func unmapSlots([]byte) {}
