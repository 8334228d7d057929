package registry_test

import (
	"encoding/base64"
	"errors"
	"testing"

	"github.com/callstream/callstream/connector/registry"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

// CheckTopics tells new, registered and incompatible subjects apart and
// registers nothing.
func TestCheckTopicsRegistersNothing(t *testing.T) {
	fake := srfake.New()
	defer fake.Close()
	older := variant(t, func(f []any) []any { return f[:1] })
	fake.SeedSchema("calls-value", 1, 1, sr.Schema{Schema: older, Type: sr.TypeAvro})
	c := newClient(t, registry.Config{URL: fake.URL()})
	results, incompatible, err := c.CheckTopics(ctxT(t), "calls.dlq", "calls", "calls.failed")
	if err != nil {
		t.Fatal(err)
	}
	var ie *registry.IncompatibleError
	if len(incompatible) != 1 || !errors.As(incompatible[0], &ie) || ie.Subject != "calls-value" || ie.Version != 1 {
		t.Fatalf("incompatible %v, want calls-value version 1 alone", incompatible)
	}
	want := []registry.CheckResult{{Subject: "calls-value", Latest: 1}, {Subject: "calls.failed-value"}, {Subject: "calls.dlq-value"}}
	if len(results) != len(want) {
		t.Fatalf("results %+v, want %+v", results, want)
	}
	for i := range want {
		if results[i] != want[i] {
			t.Errorf("result %d: %+v, want %+v", i, results[i], want[i])
		}
	}
	for _, s := range []string{"calls.failed-value", "calls.dlq-value"} {
		if fake.SubjectExists(s) {
			t.Errorf("CheckTopics registered %s", s)
		}
	}

	fresh := srfake.New()
	defer fresh.Close()
	c = newClient(t, registry.Config{URL: fresh.URL()})
	ids, err := c.RegisterTopics(ctxT(t), "calls.dlq", "calls", "calls.failed")
	if err != nil {
		t.Fatal(err)
	}
	results, incompatible, err = c.CheckTopics(ctxT(t), "calls.dlq", "calls", "calls.failed")
	if err != nil || len(incompatible) != 0 {
		t.Fatalf("after registering: err %v, incompatible %v", err, incompatible)
	}
	if r := results[2]; !r.Registered || r.ID != ids.DeadLetter {
		t.Errorf("dead-letter subject %+v, want registered with id %d", r, ids.DeadLetter)
	}
}

func TestCheckRefusedCredentials(t *testing.T) {
	fake := srfake.New(srfake.WithAuth("Basic " + base64.StdEncoding.EncodeToString([]byte("reader:pw-123"))))
	defer fake.Close()
	c := newClient(t, registry.Config{URL: fake.URL(), Username: "reader", Password: secretOf("wrong")})
	if _, _, err := c.CheckTopics(ctxT(t), "calls.dlq", "calls", "calls.failed"); !errors.Is(err, registry.ErrUnauthorized) {
		t.Fatalf("err %v, want ErrUnauthorized", err)
	}
}
