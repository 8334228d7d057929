package settings

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sourcesConfig writes testdata/sources.yaml with its key file into a
// temporary directory and returns the path of the copy.
func sourcesConfig(t *testing.T, extra string) string {
	t.Helper()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "globex.key")
	if err := os.WriteFile(keyFile, []byte("globex-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("testdata/sources.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(data), "KEYFILE", keyFile) + extra
	path := filepath.Join(dir, "callstream.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSourcesFromConfig(t *testing.T) {
	path := sourcesConfig(t, "")
	args := []string{"--config", path}
	f, err := parseRun(t, args, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	cfg, err := f.ConnectorConfig(args, envOf(nil), now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Group != "callstream-prod" || cfg.StatePartitions != 6 || cfg.UnprefixedSource != "scrm" || len(cfg.Sources) != 2 {
		t.Fatalf("group %q, partitions %d, legacy %q, %d sources; want callstream-prod, 6, scrm, 2",
			cfg.Group, cfg.StatePartitions, cfg.UnprefixedSource, len(cfg.Sources))
	}
	acme, globex := cfg.Sources[0], cfg.Sources[1]
	for _, tc := range []struct {
		name string
		got  any
		want any
	}{
		{"acme name", acme.SourceName, "acme"},
		{"acme app id", acme.AppID, "APPID1"},
		{"acme type", acme.Type, "chat"},
		{"acme key (global)", acme.AppKey.Reveal(), "global-key"},
		{"acme poll interval (global)", acme.Schedule.PollInterval, 7 * time.Second},
		{"globex app id", globex.AppID, "APPID2"},
		{"globex key (its file)", globex.AppKey.Reveal(), "globex-key"},
		{"globex poll interval", globex.Schedule.PollInterval, 3 * time.Second},
		{"globex tiers", len(globex.Schedule.Tiers), 2},
		{"globex start", globex.Schedule.StartFrom, now.Add(-720 * time.Hour)},
		{"shared brokers", strings.Join(globex.Brokers, ","), "kafka-0:9092"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestSourcesRefused(t *testing.T) {
	for _, tc := range []struct {
		name, extra string
		env         map[string]string
		want        string
	}{
		{"process setting in a source", "  - name: x\n    app-id: APPID3\n    brokers: k:9092\n", nil, `"brokers" is not a per-source setting`},
		{"no name", "  - app-id: APPID3\n", nil, "sources[2]: name is required"},
		{"bad name", "  - name: Bad_Name\n    api-url: https://x.example.com\n    app-id: APPID3\n", nil, "sources[2].name"},
		{"same name", "  - name: acme\n    api-url: https://x.example.com\n    app-id: APPID3\n", nil, "used twice"},
		{"bad value", "  - name: x\n    app-id: APPID3\n    page-size: lots\n", nil, "sources[2] (x).page-size"},
		{"partitions", "", map[string]string{"CALLSTREAM_STATE_PARTITIONS": "0"}, "--state-partitions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"--config", sourcesConfig(t, tc.extra)}
			f, err := parseRun(t, args, tc.env)
			if err == nil {
				_, err = f.ConnectorConfig(args, envOf(tc.env), time.Now(), nil)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error = %v, want one line with %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "global-key") {
				t.Errorf("error %q shows the app key", err)
			}
		})
	}
}

// Without `sources` the flags define one source named --source-name, in a
// group or not.
func TestFlagsDefineOneSource(t *testing.T) {
	args := []string{"--api-url", "http://x", "--app-id", "A", "--app-key", "k", "--brokers", "b:9092", "--group", "g"}
	f, err := parseRun(t, args, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := f.ConnectorConfig(args, envOf(nil), time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Sources) != 1 || cfg.Sources[0].SourceName != "scrm" || cfg.StatePartitions != 12 || cfg.MaxConcurrentRequests != 16 {
		t.Errorf("sources %d (%s), partitions %d, max requests %d; want 1 (scrm), 12, 16",
			len(cfg.Sources), cfg.Sources[0].SourceName, cfg.StatePartitions, cfg.MaxConcurrentRequests)
	}
}

// A --sources that does not parse is refused without quoting it: it may
// hold app keys.
func TestBadSourcesQuoteNoKey(t *testing.T) {
	args := []string{"--brokers", "b:9092", "--sources", "[{name: a, app-key: s3cret-key}, : :"}
	f, err := parseRun(t, args, nil)
	if err == nil {
		_, err = f.ConnectorConfig(args, envOf(nil), time.Now(), nil)
	}
	if err == nil || !strings.Contains(err.Error(), "--sources") || strings.Contains(err.Error(), "s3cret-key") {
		t.Errorf("error = %v, want one naming --sources without the key", err)
	}
}
