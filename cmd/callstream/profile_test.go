package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// --cpuprofile writes a pprof profile (gzip-compressed protobuf) once
// stopped; without it nothing is written.
func TestCPUProfileWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.prof")
	stop, err := startCPUProfile(path)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		t.Errorf("profile starts with % x, want a gzip stream", b[:min(len(b), 4)])
	}
	none, err := startCPUProfile("")
	if err != nil {
		t.Fatal(err)
	}
	none()
	if _, err := startCPUProfile(filepath.Join(t.TempDir(), "no", "such", "dir", "cpu.prof")); err == nil {
		t.Error("a profile file that cannot be created is no error")
	}
}
