package connector

import (
	"errors"
	"strings"
	"testing"
)

// Validate names the Config field and echoes the value, never a flag of
// the command line, and never a secret.
func TestValidateNamesFields(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*SourceConfig)
		want   FieldError
	}{
		{"page concurrency 0", func(c *SourceConfig) { c.PageConcurrency = 0 }, FieldError{"PageConcurrency", "0", "want 1..64"}},
		{"page concurrency 65", func(c *SourceConfig) { c.PageConcurrency = 65 }, FieldError{"PageConcurrency", "65", "want 1..64"}},
		{"page size", func(c *SourceConfig) { c.PageSize = 1001 }, FieldError{"PageSize", "1001", "want 1..1000"}},
		{"app key", func(c *SourceConfig) { c.AppKey = "" }, FieldError{"AppKey", "", "required"}},
		{"api url", func(c *SourceConfig) { c.APIURL = "ftp://u:pw@x" }, FieldError{"APIURL", "ftp://u:xxxxx@x", "want an http(s) URL"}},
		{"poll interval", func(c *SourceConfig) { c.Schedule.PollInterval = 0 }, FieldError{"Schedule.PollInterval", "0s", "want a positive duration"}},
		{"topics", func(c *SourceConfig) { c.Topics.DLQ = c.Topics.Calls }, FieldError{"Topics.DLQ", "calls", "want a topic of its own, not the calls topic"}},
		{"latest topic", func(c *SourceConfig) { c.Topics.Latest = c.Topics.State }, FieldError{"Topics.Latest", "callstream.state", "want a topic of its own, not the state topic"}},
		{"latest topic off", func(c *SourceConfig) { c.Topics.Latest = ""; c.PageSize = 0 }, FieldError{"PageSize", "0", "want 1..1000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t, "http://127.0.0.1:1", []string{"127.0.0.1:1"})
			tc.change(&cfg)
			err := cfg.Validate()
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Validate() = %v, want a *FieldError", err)
			}
			if *fe != tc.want {
				t.Errorf("Validate() = %+v, want %+v", *fe, tc.want)
			}
			if strings.Contains(err.Error(), "--") || strings.Contains(err.Error(), "pw") {
				t.Errorf("Validate() = %q: names a flag or shows a password", err)
			}
		})
	}
	good := testConfig(t, "http://127.0.0.1:1", []string{"127.0.0.1:1"})
	if err := good.Validate(); err != nil {
		t.Errorf("Validate() of the test config = %v", err)
	}
}
