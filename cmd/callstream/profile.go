package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
)

// registerCPUProfile adds --cpuprofile to fs: the file that receives a
// pprof CPU profile of the whole process, from the start to its exit
// (callstream bench --cpuprofile passes it to the connector it runs).
func registerCPUProfile(fs *flag.FlagSet) *string {
	return fs.String("cpuprofile", "", "write a pprof CPU profile of the process to this file, from the start to the exit (for performance work; empty: none)")
}

// startCPUProfile starts profiling the process into path, if set; the
// returned stop writes the profile out and must run before the exit.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, usagef("--cpuprofile: %v", err)
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
