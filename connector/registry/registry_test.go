package registry_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/connector/registry"
	"github.com/callstream/callstream/connector/security"
	"github.com/callstream/callstream/internal/testpki"
	"github.com/callstream/callstream/schemas"
	"github.com/callstream/callstream/secret"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

func newClient(t *testing.T, cfg registry.Config) *registry.Client {
	t.Helper()
	c, err := registry.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestRegisterTopicsThenDecode(t *testing.T) {
	fake := srfake.New()
	defer fake.Close()
	c := newClient(t, registry.Config{URL: fake.URL()})
	ids, err := c.RegisterTopics(ctxT(t), "calls.dlq", "calls", "calls.failed", "calls.latest")
	if err != nil {
		t.Fatal(err)
	}
	if ids.CallEvent == ids.DeadLetter || ids.CallEvent <= 0 {
		t.Fatalf("ids %+v", ids)
	}
	for _, subject := range []string{"calls-value", "calls.failed-value", "calls.dlq-value"} {
		if !fake.SubjectExists(subject) {
			t.Errorf("subject %s not registered", subject)
		}
	}
	again, err := c.RegisterTopics(ctxT(t), "calls.dlq", "calls", "calls.failed", "calls.latest")
	if err != nil || again != ids {
		t.Fatalf("second start: ids %+v, err %v; want %+v", again, err, ids)
	}
	if s, ok := fake.GetSchema("calls-value", 2); ok {
		t.Errorf("a second start registered version 2: %+v", s)
	}

	enc := event.NewRegistryEncoder(ids.CallEvent, ids.DeadLetter)
	in := &event.Event{EventID: "e1", Kind: event.Created, Call: &event.Call{ID: 7, Status: 2}}
	value, err := enc.AppendEvent(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := event.NewDecoder(c.Lookup(ctxT(t))).DecodeEvent(value)
	if err != nil {
		t.Fatal(err)
	}
	if got.EventID != in.EventID || got.Call.ID != 7 || got.Call.Status != 2 {
		t.Errorf("decoded %+v, want %+v", got, in)
	}
}

// variant returns schemas/call_event.avsc with its fields changed by edit.
func variant(t *testing.T, edit func(fields []any) []any) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(schemas.CallEvent().Text()), &m); err != nil {
		t.Fatal(err)
	}
	m["fields"] = edit(m["fields"].([]any))
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCompatibilityCheckedBeforeRegistering(t *testing.T) {
	// older lacks the fields after eventId: new readers find no default
	// for them (not BACKWARD), old readers ignore them (FORWARD).
	older := variant(t, func(f []any) []any { return f[:1] })
	// tenant is a field our schema lacks, required by old readers (not
	// FORWARD); new readers skip it (BACKWARD).
	withTenant := variant(t, func(f []any) []any {
		return append(f, map[string]any{"name": "tenant", "type": "string"})
	})
	// optional is a field with a default: compatible both ways.
	optional := variant(t, func(f []any) []any {
		return append(f, map[string]any{"name": "note", "type": []any{"null", "string"}, "default": nil})
	})
	for _, tc := range []struct {
		name     string
		versions []string
		level    registry.Compatibility
		wantErr  bool
	}{
		{"empty subject", nil, registry.Backward, false},
		{"backward, old lacks fields", []string{older}, registry.Backward, true},
		{"forward, old lacks fields", []string{older}, registry.Forward, false},
		{"backward, old has a required field", []string{withTenant}, registry.Backward, false},
		{"forward, old has a required field", []string{withTenant}, registry.Forward, true},
		{"full, old has a required field", []string{withTenant}, registry.Full, true},
		{"full, old has an optional field", []string{optional}, registry.Full, false},
		{"none", []string{withTenant}, registry.None, false},
		{"backward checks the latest only", []string{older, optional}, registry.Backward, false},
		{"backward transitive checks every version", []string{older, optional}, registry.BackwardTransitive, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := srfake.New()
			defer fake.Close()
			for i, text := range tc.versions {
				fake.SeedSchema("calls-value", i+1, 100+i, sr.Schema{Schema: text, Type: sr.TypeAvro})
			}
			c := newClient(t, registry.Config{URL: fake.URL(), Compatibility: tc.level})
			id, err := c.Register(ctxT(t), "calls-value", schemas.CallEvent())
			if tc.wantErr {
				var ie *registry.IncompatibleError
				if !errors.As(err, &ie) || !errors.Is(err, registry.ErrIncompatible) {
					t.Fatalf("err %v, want an IncompatibleError", err)
				}
				if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), `"calls-value"`) {
					t.Errorf("message %q: want one line naming the subject", err)
				}
				t.Log(err)
				if _, ok := fake.GetSchema("calls-value", len(tc.versions)+1); ok {
					t.Error("an incompatible schema was registered")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, ok := fake.GetSchema("calls-value", len(tc.versions)+1)
			if !ok || got.ID != id {
				t.Errorf("registered %+v (found %v), want id %d", got, ok, id)
			}
		})
	}
}

func TestParseCompatibility(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want registry.Compatibility
	}{
		{"BACKWARD", registry.Backward}, {"forward_transitive", registry.ForwardTransitive},
		{"Full", registry.Full}, {"NONE", registry.None}, {"sideways", ""},
	} {
		got, err := registry.ParseCompatibility(tc.in)
		if got != tc.want || (err != nil) != (tc.want == "") {
			t.Errorf("ParseCompatibility(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestBasicAuth(t *testing.T) {
	fake := srfake.New(srfake.WithAuth("Basic " + base64.StdEncoding.EncodeToString([]byte("reader:pw-123"))))
	defer fake.Close()
	for _, tc := range []struct {
		name, user, pass string
		wantErr          bool
	}{
		{"right", "reader", "pw-123", false},
		{"none", "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, registry.Config{URL: fake.URL(), Username: tc.user, Password: secretOf(tc.pass)})
			_, err := c.RegisterTopics(ctxT(t), "calls.dlq", "calls", "calls.failed", "calls.latest")
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
		})
	}
}

// The bearer token file is read again for each request once it changed.
func TestBearerTokenFileIsReread(t *testing.T) {
	fake := srfake.New()
	defer fake.Close()
	var mu sync.Mutex
	var seen []string
	fake.Intercept(func(_ http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, r.Header.Get("Authorization"))
		return false
	})
	path := filepath.Join(t.TempDir(), "token")
	write := func(tok string) {
		if err := os.WriteFile(path, []byte(tok), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("tok-1")
	c := newClient(t, registry.Config{URL: fake.URL(), TokenFile: path})
	if _, err := c.Register(ctxT(t), "calls-value", schemas.CallEvent()); err != nil {
		t.Fatal(err)
	}
	write("tok-2-rotated")
	if _, err := c.Register(ctxT(t), "calls-value", schemas.CallEvent()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) < 2 || seen[0] != "Bearer tok-1" || seen[len(seen)-1] != "Bearer tok-2-rotated" {
		t.Errorf("Authorization headers %q", seen)
	}
}

func TestMutualTLS(t *testing.T) {
	pki := testpki.New(t)
	fake := srfake.NewRegistry()
	srv := httptest.NewUnstartedServer(fake.Handler())
	srv.TLS = pki.ServerConfig(t, true)
	srv.StartTLS()
	defer srv.Close()
	for _, tc := range []struct {
		name    string
		tls     security.TLS
		wantErr bool
	}{
		{"client certificate", security.TLS{CAFile: pki.CAFile, CertFile: pki.ClientCertFile, KeyFile: pki.ClientKeyFile}, false},
		{"no client certificate", security.TLS{CAFile: pki.CAFile}, true},
		{"system roots", security.TLS{Enabled: true, CertFile: pki.ClientCertFile, KeyFile: pki.ClientKeyFile}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, registry.Config{URL: srv.URL, TLS: tc.tls})
			_, err := c.Register(ctxT(t), "calls-value", schemas.CallEvent())
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
		})
	}
}

func TestInvalidConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  registry.Config
		want string
	}{
		{"not a URL", registry.Config{URL: "registry:8081"}, "http(s) URL"},
		{"credentials in URL", registry.Config{URL: "https://u:p@registry"}, "must not carry credentials"},
		{"user without password", registry.Config{URL: "http://r", Username: "u"}, "both a user name and a password"},
		{"basic and bearer", registry.Config{URL: "http://r", Username: "u", Password: "p", TokenFile: "t"}, "not both"},
		{"TLS over http", registry.Config{URL: "http://r", TLS: security.TLS{CAFile: "ca.pem"}}, "not https"},
		{"missing token file", registry.Config{URL: "http://r", TokenFile: "/nonexistent/token"}, "token file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := registry.New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func secretOf(s string) secret.String { return secret.String(s) }
