package settings

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/connector"
	"github.com/callstream/callstream/connector/registry"
	"github.com/callstream/callstream/connector/schedule"
	"github.com/callstream/callstream/connector/security"
	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/connector/source"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func parseRun(t *testing.T, args []string, env map[string]string) (*Run, error) {
	t.Helper()
	fs := newRunFlagSet()
	var f Run
	f.Register(fs)
	return &f, Parse(fs, args, envOf(env))
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

func TestAppKeyFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(p, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := []string{"--api-url", "http://x", "--app-id", "a", "--brokers", "b:1", "--app-key-file", p}
	f, err := parseRun(t, good, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := f.SourceConfig(time.Now())
	if err != nil || cfg.AppKey.Reveal() != "s3cret" {
		t.Fatalf("app key %q, %v; want the file's, trimmed", cfg.AppKey.Reveal(), err)
	}
	if f, err = parseRun(t, append(good, "--app-key", "also"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.SourceConfig(time.Now()); err == nil || !strings.Contains(err.Error(), "--app-key-file") {
		t.Errorf("both --app-key and --app-key-file: %v; want refused, naming --app-key-file", err)
	}
}

// Every field that connector.SourceConfig.Validate can name has a run flag.
func TestConfigFlagsNameEveryField(t *testing.T) {
	fs := newRunFlagSet()
	var f Run
	f.Register(fs)
	for field, name := range configFlags {
		if fs.Lookup(name) == nil {
			t.Errorf("field %s maps to --%s, which run does not have", field, name)
		}
	}
	// Wrong in every field: the topics missing, and then all the same.
	bad := connector.SourceConfig{
		APIURL: "ftp://x", PageConcurrency: 65, RequestTimeout: -1, Retry: source.Retry{Max: -1},
		RateLimit: -1, RateBurst: -1, Partitions: -2, ReplicationFactor: -2, ReadyMaxAge: -1, NoRecordsAlert: -1,
		BatchMaxBytes: 10, IgnoreChanges: []string{"nope"},
		TransactionTimeout: time.Millisecond, MaxTransactionBytes: -1, RestoreStallTimeout: -1,
		Schedule: schedule.Config{Settle: -1, BackfillWindow: time.Millisecond, BackfillMaxWindow: time.Nanosecond},
	}
	same := connector.SourceConfig{Topics: sink.Topics{Calls: "t", Failed: "t", DLQ: "t", State: "t", Latest: "t"}}
	var errs []error
	for _, c := range []connector.SourceConfig{bad, same} {
		joined, ok := c.Validate().(interface{ Unwrap() []error })
		if !ok {
			t.Fatal("Validate of a wrong config returned no joined errors")
		}
		errs = append(errs, joined.Unwrap()...)
	}
	named := map[string]bool{}
	for _, err := range errs {
		var fe *connector.FieldError
		if !errors.As(err, &fe) {
			t.Errorf("Validate error %v is not a *connector.FieldError", err)
			continue
		}
		named[fe.Field] = true
		if _, ok := configFlags[fe.Field]; !ok {
			t.Errorf("Validate names field %s, which has no flag in configFlags", fe.Field)
		}
	}
	for field := range configFlags {
		if !named[field] {
			t.Errorf("configFlags maps %s, which Validate of the wrong configs did not name", field)
		}
	}
}

// The polling flags of run reach the connector's configuration.
func TestPollingFlags(t *testing.T) {
	good := []string{"--api-url", "http://x", "--app-id", "a", "--app-key", "k", "--brokers", "b:1"}
	f, err := parseRun(t, append(good, "--rate-limit", "2.5", "--rate-burst", "4", "--retry-max", "10s",
		"--backfill-max-window", "48h", "--page-concurrency", "8"), map[string]string{"CALLSTREAM_REQUEST_TIMEOUT": "7s"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := f.SourceConfig(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := source.Retry{Initial: source.DefaultRetryInitial, Max: 10 * time.Second}
	if cfg.RateLimit != 2.5 || cfg.RateBurst != 4 || cfg.Retry != want || cfg.RequestTimeout != 7*time.Second ||
		cfg.Schedule.BackfillMaxWindow != 48*time.Hour || cfg.PageConcurrency != 8 {
		t.Errorf("config: rate %v burst %d retry %+v timeout %s backfill max %s", cfg.RateLimit, cfg.RateBurst,
			cfg.Retry, cfg.RequestTimeout, cfg.Schedule.BackfillMaxWindow)
	}

	// Defaults: no rate limit, 30s backoff cap, backfill windows up to a
	// day, four pages at once.
	f, _ = parseRun(t, good, nil)
	cfg, err = f.SourceConfig(time.Now())
	if err != nil || cfg.RateLimit != 0 || cfg.Retry.Max != 30*time.Second || cfg.Schedule.BackfillMaxWindow != 24*time.Hour ||
		cfg.PageConcurrency != 4 {
		t.Errorf("defaults: %v, rate %v, retry max %s, backfill max %s", err, cfg.RateLimit, cfg.Retry.Max, cfg.Schedule.BackfillMaxWindow)
	}
}

func TestKafkaFlags(t *testing.T) {
	good := []string{"--api-url", "http://x", "--app-id", "a", "--app-key", "k", "--brokers", "b:1"}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string // part of the one-line error; empty: valid
	}{
		{"defaults", nil, nil, ""},
		{"topic configs repeated", []string{"--topic-config", "retention.ms=1", "--topic-config", "cleanup.policy=compact,delete"}, nil, ""},
		{"bad topic config", []string{"--topic-config", "retention.ms"}, nil, "topic-config"},
		{"unknown compression", []string{"--compression", "brotli"}, nil, "--compression"},
		{"tiny batch", []string{"--batch-max-bytes", "10"}, nil, "--batch-max-bytes"},
		{"unknown mechanism", []string{"--sasl-mechanism", "GSSAPI"}, nil, "--sasl-mechanism: unknown SASL mechanism"},
		{"scram without password", []string{"--sasl-mechanism", "SCRAM-SHA-256", "--sasl-username", "u"}, nil, "--sasl-mechanism"},
		{"password from env", []string{"--sasl-mechanism", "SCRAM-SHA-256", "--sasl-username", "u"},
			map[string]string{"CALLSTREAM_SASL_PASSWORD": "pw"}, ""},
		{"password twice", []string{"--sasl-password", "a", "--sasl-password-file", "/nonexistent"}, nil, "--sasl-password-file: give the secret once"},
		{"missing password file", []string{"--sasl-password-file", "/nonexistent/pw"}, nil, "--sasl-password-file"},
		{"unknown compatibility", []string{"--schema-compatibility", "SIDEWAYS"}, nil, "--schema-compatibility"},
		{"registry credentials in URL", []string{"--schema-registry-url", "https://u:p@r"}, nil, "must not carry credentials"},
		{"registry password from env", []string{"--schema-registry-url", "https://r", "--schema-registry-username", "u"},
			map[string]string{"CALLSTREAM_SCHEMA_REGISTRY_PASSWORD": "pw"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := parseRun(t, append(append([]string{}, good...), tc.args...), tc.env)
			if err == nil {
				_, err = f.SourceConfig(time.Now())
			}
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("err %v, want none", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err %v, want one containing %q", err, tc.want)
			}
			if tc.name == "topic configs repeated" {
				if got := f.produce.topicConfigs.String(); got != "cleanup.policy=compact,delete,retention.ms=1" {
					t.Errorf("topic configs %q", got)
				}
			}
		})
	}
}

// The production example's Kafka and producer settings reach the settings
// (the command's TestProductionConfigChecks runs it whole).
func TestProductionConfigFile(t *testing.T) {
	f, err := parseRun(t, []string{"--config", "../../cmd/callstream/testdata/production.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, got, want string }{
		{"sasl", f.kafka.saslMechanism, security.ScramSHA512},
		{"topic configs from a YAML map", f.produce.topicConfigs.String(), "min.insync.replicas=2,retention.ms=1209600000"},
		{"compression", f.produce.compression, "zstd"},
		{"linger", f.produce.linger.String(), "20ms"},
		{"compatibility", f.produce.compatibility, string(registry.Backward)},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}
