// Package procstat reads a process's memory figures from /proc (Linux):
// the benchmarks report resident set sizes with it.
package procstat

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Fields of /proc/PID/status.
const (
	// PeakRSS is the peak resident set size since the start or the last
	// ResetPeak.
	PeakRSS = "VmHWM"
	// RSS is the current resident set size.
	RSS = "VmRSS"
)

// Bytes returns a size field of /proc/PID/status (pid 0: this process) in
// bytes.
func Bytes(pid int, field string) (int64, error) {
	f, err := os.Open(statusPath(pid, "status"))
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", field, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("reading %s: %w", field, err)
			}
			return kb << 10, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("reading %s: %w", field, err)
	}
	return 0, fmt.Errorf("reading %s: not in %s", field, statusPath(pid, "status"))
}

// ResetPeak sets the process's PeakRSS back to its current RSS, so that a
// benchmark can measure the peak of one phase.
func ResetPeak(pid int) error {
	if err := os.WriteFile(statusPath(pid, "clear_refs"), []byte("5"), 0); err != nil {
		return fmt.Errorf("resetting the peak RSS: %w", err)
	}
	return nil
}

func statusPath(pid int, name string) string {
	if pid == 0 {
		return "/proc/self/" + name
	}
	return "/proc/" + strconv.Itoa(pid) + "/" + name
}
