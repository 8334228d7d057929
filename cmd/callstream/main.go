// Command callstream moves a vendor's call list into Kafka exactly once.
//
// Subcommands: run (the connector), demo (broker, simulator and connector in
// one process), simulate (the vendor API), broker (a development Kafka
// broker), tail (read the output topics), doctor (check run's settings
// before a deployment), version and healthcheck (for container health
// checks in images without a shell).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	// The API's times are China Standard Time. The zone database is
	// embedded so that zone names (TZ=Asia/Shanghai, time.LoadLocation)
	// resolve in images without /usr/share/zoneinfo, such as distroless.
	_ "time/tzdata"
)

// Set by -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = "none"
)

// command is one subcommand: it parses its own flags from args and returns
// the process exit status (0 ok, 1 runtime failure, 2 bad usage).
type command func(ctx context.Context, args []string, stdout, stderr io.Writer) int

var commands = map[string]command{
	"run":      cmdRun,
	"demo":     cmdDemo,
	"simulate": cmdSimulate,
	"broker":   cmdBroker,
	"tail":     cmdTail,
	"version":  cmdVersion,
	"bench":    cmdBench,
	"doctor":   cmdDoctor,

	"healthcheck": cmdHealthcheck,
}

const usage = `usage: callstream <command> [flags]

commands:
  run          the connector: poll the API, produce to Kafka exactly once
  demo         broker, simulator and connector in one process
  simulate     a simulator of the vendor API
  broker       a single-node Kafka-compatible broker for development
  tail         print the output topics, decoded, one JSON object a line
  doctor       check run's settings against the API, Kafka and the registry, writing nothing
  bench        measure the connector's CPU per record against a simulator and a broker
  version      print the version (also --version)
  healthcheck  GET a health URL; exit 0 if it answers 2xx (for container health checks)

"callstream <command> -h" lists a command's flags.
`

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	name := args[0]
	if name == "--version" || name == "-version" {
		name = "version" // as other tools answer it
	}
	cmd, ok := commands[name]
	if !ok {
		if name == "-h" || name == "--help" || name == "help" {
			fmt.Fprint(stdout, usage)
			return 0
		}
		fmt.Fprintf(stderr, "callstream: unknown command %q\n%s", args[0], usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cmd(ctx, args[1:], stdout, stderr)
}

func cmdVersion(_ context.Context, _ []string, stdout, _ io.Writer) int {
	fmt.Fprintf(stdout, "callstream %s (commit %s)\n", version, commit)
	return 0
}
