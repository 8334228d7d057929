package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every bad setting is one line that names it, and exit status 2.
func TestBadSettingsNameTheSetting(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	unknown := write("unknown.yaml", "poll-intervall: 5s\n")
	badValue := write("bad.yaml", "page-size: many\n")
	good := []string{"--api-url", "http://x", "--app-id", "a", "--app-key", "k", "--brokers", "b:1"}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad flag value", []string{"--poll-interval", "soon"}, nil, "poll-interval"},
		{"unknown flag", []string{"--no-such-flag"}, nil, "no-such-flag"},
		{"bad env value", nil, map[string]string{"CALLSTREAM_PAGE_SIZE": "x"}, "CALLSTREAM_PAGE_SIZE"},
		{"unknown config key", []string{"--config", unknown}, nil, "poll-intervall"},
		{"bad config value", []string{"--config", badValue}, nil, "page-size"},
		{"missing config file", []string{"--config", filepath.Join(dir, "nope.yaml")}, nil, "--config"},
		{"missing app key", []string{"--api-url", "http://x", "--app-id", "a", "--brokers", "b:1"}, nil, "app-key"},
		{"bad api url", append(good, "--api-url", "ftp:/x"), nil, "api-url"},
		{"bad tiers", append(good, "--tiers", "a=1h"), nil, "tiers"},
		{"bad sign", append(good, "--sign", "crc32"), nil, "sign"},
		{"bad start-from", append(good, "--start-from", "yesterday"), nil, "start-from"},
		{"zero page size", append(good, "--page-size", "0"), nil, "page-size"},
		{"bad log level", append(good, "--log-level", "loud"), nil, "log-level"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			code := cmdRun(t.Context(), append(tc.args, "--check-config"), &stdout, &stderr)
			msg := stderr.String()
			if code != 2 {
				t.Errorf("exit status %d, want 2 (stderr %q)", code, msg)
			}
			if strings.Count(strings.TrimSpace(msg), "\n") != 0 || !strings.Contains(msg, tc.want) {
				t.Errorf("stderr %q: want one line naming %q", msg, tc.want)
			}
		})
	}
}

func TestCheckConfigAcceptsAGoodConfig(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := cmdRun(t.Context(), []string{"--api-url", "http://x", "--app-id", "a", "--app-key", "k", "--brokers", "b:1", "--check-config"},
		&stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}

// A value a flag refuses reads the same from the command line, the
// environment and the config file: the flag, the value given, what a
// valid one looks like, and where it came from; one line, exit status 2.
func TestBadValueSaysWhatIsWantedFromEverySource(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(file, []byte("poll-interval: abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const want = `--poll-interval: invalid value "abc"`
	const wanted = ": want a duration such as 30s or 5m"
	good := []string{"--api-url", "http://x", "--app-id", "a", "--app-key", "k", "--brokers", "b:1", "--check-config"}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		line string
	}{
		{"flag", []string{"--poll-interval", "abc"}, nil, want + wanted},
		{"flag with =", []string{"-poll-interval=abc"}, nil, want + wanted},
		{"variable", nil, map[string]string{"CALLSTREAM_POLL_INTERVAL": "abc"}, want + " (from CALLSTREAM_POLL_INTERVAL)" + wanted},
		{"config key", []string{"--config", file}, nil, want + " (from config key poll-interval in " + file + ")" + wanted},
	} {
		t.Run(tc.name, func(t *testing.T) { runRefuses(t, append(append([]string{}, good...), tc.args...), tc.env, tc.line) })
	}
}

// runRefuses runs `callstream run args` with env set and checks that it
// exits 2 with line, and nothing else, on stderr.
func runRefuses(t *testing.T, args []string, env map[string]string, line string) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	var stdout, stderr bytes.Buffer
	code := cmdRun(t.Context(), args, &stdout, &stderr)
	if got, want := stderr.String(), "callstream run: "+line+"\n"; code != 2 || got != want {
		t.Errorf("exit %d, stderr %q; want 2, %q", code, got, want)
	}
}

// The expected form of each kind of flag, and the values the connector's
// Config refuses, named by their flag with the value echoed.
func TestBadValuesSayWhatIsWanted(t *testing.T) {
	good := []string{"--api-url", "http://x", "--app-id", "a", "--app-key", "k", "--brokers", "b:1", "--check-config"}
	for _, tc := range []struct {
		args []string
		env  map[string]string
		line string
	}{
		{[]string{"--page-size", "ten"}, nil, `--page-size: invalid value "ten": want a whole number`},
		{[]string{"--rate-limit", "fast"}, nil, `--rate-limit: invalid value "fast": want a number such as 2.5`},
		{[]string{"--create-topics=maybe"}, nil, `--create-topics: invalid value "maybe": want true or false`},
		{nil, map[string]string{"CALLSTREAM_CREATE_TOPICS": "maybe"},
			`--create-topics: invalid value "maybe" (from CALLSTREAM_CREATE_TOPICS): want true or false`},
		{[]string{"--topic-config", "retention.ms"}, nil,
			`--topic-config: invalid value "retention.ms": want KEY=VALUE pairs such as retention.ms=604800000, got "retention.ms"`},
		{[]string{"--page-concurrency", "0"}, nil, `--page-concurrency: invalid value "0": want 1..64`},
		{nil, map[string]string{"CALLSTREAM_PAGE_CONCURRENCY": "65"}, `--page-concurrency: invalid value "65": want 1..64`},
		{[]string{"--page-size", "1001"}, nil, `--page-size: invalid value "1001": want 1..1000`},
		{[]string{"--poll-interval", "0s"}, nil, `--poll-interval: invalid value "0s": want a positive duration`},
		{[]string{"--backfill-max-window", "1m"}, nil, `--backfill-max-window: invalid value "1m0s": want 0 or at least the backfill window, 1h0m0s`},
		{[]string{"--topic-state", "calls"}, nil, `--topic-state: invalid value "calls": want a topic of its own, not the calls topic`},
		{[]string{"--partitions", "-2"}, nil, `--partitions: invalid value "-2": want 1 or more (0 or -1: the broker's default)`},
		{[]string{"--fenced-hold", "-1s"}, nil, `--fenced-hold: invalid value "-1s": want a duration ≥ 0 (0: exit at once)`},
		{[]string{"--linger", "-1ms"}, nil, `--linger: invalid value "-1ms": want a duration ≥ 0`},
		{[]string{"--compression", "brotli"}, nil, `--compression: invalid value "brotli": want zstd, lz4, snappy, gzip or none`},
		{[]string{"--log-level", "loud"}, nil, `--log-level: invalid value "loud": want debug, info, warn or error`},
		{[]string{"--app-id", ""}, nil, `--app-id: required`},
	} {
		t.Run(tc.line, func(t *testing.T) { runRefuses(t, append(append([]string{}, good...), tc.args...), tc.env, tc.line) })
	}
}

// -h still lists the flags with their types and defaults: the values are
// checked while parsing, and the flags' own values are back afterwards.
func TestHelpKeepsFlagTypes(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := cmdRun(t.Context(), []string{"-h"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	help := stdout.String()
	for _, want := range []string{"-poll-interval duration", "-page-size int", "(default 5s)", "-create-topics\n"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
	if strings.Contains(help, "panic") {
		t.Errorf("help holds a panic:\n%s", help)
	}
}
