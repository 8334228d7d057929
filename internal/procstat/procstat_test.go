package procstat

import (
	"os"
	"runtime"
	"testing"
)

func TestPeakFollowsAnAllocationAndResets(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc here")
	}
	if err := ResetPeak(0); err != nil {
		t.Skipf("the peak cannot be reset here: %v", err)
	}
	before, err := Bytes(0, PeakRSS)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 64<<20)
	for i := range b {
		b[i] = 1
	}
	peak, err := Bytes(0, PeakRSS)
	if err != nil {
		t.Fatal(err)
	}
	if peak < before+60<<20 {
		t.Errorf("peak RSS %d after touching 64 MiB, from %d", peak, before)
	}
	runtime.KeepAlive(b)
	b = nil
	runtime.GC()
	if _, err := Bytes(os.Getpid(), RSS); err != nil {
		t.Errorf("RSS by pid: %v", err)
	}
	if _, err := Bytes(0, "VmNothing"); err == nil {
		t.Error("an absent field was read")
	}
}
