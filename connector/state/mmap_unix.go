//go:build linux || darwin || freebsd || netbsd || openbsd

package state

import (
	"sync/atomic"
	"syscall"
)

// mappedBytes is the memory mapped and not yet released, for tests.
var mappedBytes atomic.Int64

// canMap reports whether mapSlots maps memory on this system.
const canMap = true

// mapSlots returns n bytes of zeroed, private anonymous memory outside the
// Go heap, or nil if the system refuses (the caller then uses the heap).
func mapSlots(n int) []byte {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil
	}
	mappedBytes.Add(int64(n))
	return b
}

// unmapSlots releases memory from mapSlots; nil is a no-op.
func unmapSlots(b []byte) {
	if b != nil && syscall.Munmap(b) == nil {
		mappedBytes.Add(-int64(len(b)))
	}
}
