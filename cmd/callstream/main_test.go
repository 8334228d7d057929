package main

import (
	"os"
	"testing"
)

// asMainEnv makes the test binary act as the callstream binary: tests that
// need the connector as a child process (to kill it with SIGKILL) run
// themselves with it set, so no separate build is needed.
const asMainEnv = "CALLSTREAM_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
