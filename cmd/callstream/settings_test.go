package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func parseRun(t *testing.T, args []string, env map[string]string) (*runFlags, error) {
	t.Helper()
	fs := newRunFlagSet()
	var f runFlags
	f.register(fs)
	return &f, parseLayered(fs, args, envOf(env))
}

func TestPrecedenceFlagEnvFileDefault(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "callstream.yaml")
	yaml := "poll-interval: 7s\nsettle-delay: 3s\npage-size: 40\nbrokers: [a:9092, b:9092]\n"
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := parseRun(t,
		[]string{"--config", cfgFile, "--poll-interval", "9s"},
		map[string]string{"CALLSTREAM_POLL_INTERVAL": "8s", "CALLSTREAM_SETTLE_DELAY": "4s"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		got  any
		want any
	}{
		{"flag beats env and file", f.pollInterval, 9 * time.Second},
		{"env beats file", f.settle, 4 * time.Second},
		{"file beats default", f.pageSize, 40},
		{"file list", f.brokers, "a:9092,b:9092"},
		{"default", f.maxPages, 50},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestConfigFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(cfgFile, []byte("app-id: from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := parseRun(t, nil, map[string]string{"CALLSTREAM_CONFIG": cfgFile})
	if err != nil || f.appID != "from-file" {
		t.Fatalf("CALLSTREAM_CONFIG: app id %q, err %v", f.appID, err)
	}
}

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

func TestAppKeyFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(p, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := runFlags{appKeyFile: p}
	k, err := f.readAppKey()
	if err != nil || k.Reveal() != "s3cret" {
		t.Fatalf("readAppKey = %q, %v", k.Reveal(), err)
	}
	f.appKey = "also"
	if _, err := f.readAppKey(); err == nil {
		t.Error("both --app-key and --app-key-file accepted")
	}
}
