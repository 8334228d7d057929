package settings

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// --emit-updates and --ignore-changes reach the connector's configuration
// from a flag, the environment, the config file and a `sources:` entry.
func TestChangeFlags(t *testing.T) {
	good := []string{"--api-url", "http://x", "--app-id", "a", "--app-key", "k", "--brokers", "b:1"}
	for _, tc := range []struct {
		name     string
		args     []string
		env      map[string]string
		yaml     string
		updates  bool
		ignoring []string
	}{
		{name: "defaults", updates: true},
		{name: "flags", args: []string{"--emit-updates=false", "--ignore-changes", "url, extra.token"}, ignoring: []string{"url", "extra.token"}},
		{name: "environment", env: map[string]string{"CALLSTREAM_EMIT_UPDATES": "false", "CALLSTREAM_IGNORE_CHANGES": "url"},
			ignoring: []string{"url"}},
		{name: "config file", yaml: "emit-updates: false\nignore-changes: [url, salesName]\n", ignoring: []string{"url", "salesName"}},
		{name: "flag over file", args: []string{"--emit-updates"}, yaml: "emit-updates: false\n", updates: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(slices.Clone(good), tc.args...)
			if tc.yaml != "" {
				path := filepath.Join(t.TempDir(), "callstream.yaml")
				if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--config", path)
			}
			f, err := parseRun(t, args, tc.env)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := f.SourceConfig(time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if cfg.NoUpdates == tc.updates || !slices.Equal(cfg.IgnoreChanges, tc.ignoring) {
				t.Errorf("updates %v, ignoring %q; want %v, %q", !cfg.NoUpdates, cfg.IgnoreChanges, tc.updates, tc.ignoring)
			}
		})
	}

	t.Run("per source", func(t *testing.T) {
		path := sourcesConfig(t, "")
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		text = bytes.Replace(text, []byte("    type: chat\n"), []byte("    type: chat\n    ignore-changes: [url]\n    emit-updates: false\n"), 1)
		if err := os.WriteFile(path, text, 0o600); err != nil {
			t.Fatal(err)
		}
		args := []string{"--config", path}
		f, err := parseRun(t, args, nil)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := f.ConnectorConfig(args, envOf(nil), time.Now(), nil)
		if err != nil {
			t.Fatal(err)
		}
		acme, globex := cfg.Sources[0], cfg.Sources[1]
		if !acme.NoUpdates || !slices.Equal(acme.IgnoreChanges, []string{"url"}) || globex.NoUpdates || globex.IgnoreChanges != nil {
			t.Errorf("acme: updates off %v, ignoring %q; globex: updates off %v, ignoring %q",
				acme.NoUpdates, acme.IgnoreChanges, globex.NoUpdates, globex.IgnoreChanges)
		}
	})
}
