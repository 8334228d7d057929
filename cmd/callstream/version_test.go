package main

import (
	"bytes"
	"testing"
)

// --version answers as the version command does.
func TestVersionFlag(t *testing.T) {
	var want bytes.Buffer
	if code := run([]string{"version"}, &want, &bytes.Buffer{}); code != 0 || want.Len() == 0 {
		t.Fatalf("callstream version: exit %d, stdout %q", code, want.String())
	}
	for _, arg := range []string{"--version", "-version"} {
		var stdout, stderr bytes.Buffer
		if code := run([]string{arg}, &stdout, &stderr); code != 0 || stdout.String() != want.String() {
			t.Errorf("callstream %s: exit %d, stdout %q, stderr %q; want 0 and %q", arg, code, stdout.String(), stderr.String(), want.String())
		}
	}
}
