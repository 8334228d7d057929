package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/callstream/callstream/internal/settings"
)

// startCPUProfile starts profiling the process into path, if set; the
// returned stop writes the profile out and must run before the exit.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, settings.Usagef("--cpuprofile: %v", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting the CPU profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
