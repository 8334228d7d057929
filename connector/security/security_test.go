package security_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/security"
	"github.com/callstream/callstream/internal/testpki"
	"github.com/callstream/callstream/secret"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	user     = "callstream"
	password = secret.String("pa55-never-printed")
)

// secureCluster is an in-process Kafka requiring TLS with a client
// certificate and SASL, with the connector's user under every mechanism
// that kfake serves.
func secureCluster(t *testing.T, pki *testpki.PKI) []string {
	t.Helper()
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.SeedTopics(1, "secured"),
		kfake.EnableSASL(),
		kfake.Superuser(security.Plain, user, password.Reveal()),
		kfake.Superuser(security.ScramSHA256, user, password.Reveal()),
		kfake.Superuser(security.ScramSHA512, user, password.Reveal()),
		kfake.TLS(pki.ServerConfig(t, true)),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

func TestKafkaSASLOverMutualTLS(t *testing.T) {
	pki := testpki.New(t)
	other := testpki.New(t)
	seeds := secureCluster(t, pki)
	mtls := security.TLS{CAFile: pki.CAFile, CertFile: pki.ClientCertFile, KeyFile: pki.ClientKeyFile}
	for _, tc := range []struct {
		name   string
		sec    security.Kafka
		wantOK bool
	}{
		{"PLAIN", security.Kafka{TLS: mtls, SASL: security.SASL{Mechanism: security.Plain, Username: user, Password: password}}, true},
		{"SCRAM-SHA-256", security.Kafka{TLS: mtls, SASL: security.SASL{Mechanism: security.ScramSHA256, Username: user, Password: password}}, true},
		{"SCRAM-SHA-512", security.Kafka{TLS: mtls, SASL: security.SASL{Mechanism: security.ScramSHA512, Username: user, Password: password}}, true},
		{"wrong password", security.Kafka{TLS: mtls, SASL: security.SASL{Mechanism: security.ScramSHA512, Username: user, Password: "wrong"}}, false},
		{"no SASL", security.Kafka{TLS: mtls}, false},
		{"no client certificate", security.Kafka{TLS: security.TLS{CAFile: pki.CAFile},
			SASL: security.SASL{Mechanism: security.Plain, Username: user, Password: password}}, false},
		{"server signed by an unknown CA", security.Kafka{TLS: security.TLS{CAFile: other.CAFile, CertFile: pki.ClientCertFile, KeyFile: pki.ClientKeyFile},
			SASL: security.SASL{Mechanism: security.Plain, Username: user, Password: password}}, false},
		{"plaintext", security.Kafka{SASL: security.SASL{Mechanism: security.Plain, Username: user, Password: password}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts, err := tc.sec.Opts()
			if err != nil {
				t.Fatal(err)
			}
			err = produceOne(t, append(opts, kgo.SeedBrokers(seeds...), kgo.TransactionalID("security-"+tc.name)))
			if (err == nil) != tc.wantOK {
				t.Fatalf("produce: err %v, want ok %v", err, tc.wantOK)
			}
			if err != nil && strings.Contains(err.Error(), password.Reveal()) {
				t.Errorf("the password appears in the error %q", err)
			}
		})
	}
}

// produceOne produces a record in a transaction, as the connector does;
// opts name the transactional id.
func produceOne(t *testing.T, opts []kgo.Opt) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(append(opts,
		kgo.RecordRetries(2), kgo.RetryTimeout(2*time.Second))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := cl.BeginTransaction(); err != nil {
		return err
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "secured", Value: []byte("v")}).FirstErr(); err != nil {
		return err
	}
	return cl.EndTransaction(ctx, kgo.TryCommit)
}

func TestOAuthBearerTokenFileIsReread(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	write := func(tok string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("first-token")
	opts, err := security.Kafka{SASL: security.SASL{Mechanism: security.OAuthBearer, TokenFile: path}}.Opts()
	if err != nil || len(opts) != 1 {
		t.Fatalf("opts %d, err %v", len(opts), err)
	}
	m, err := security.SASL{Mechanism: security.OAuthBearer, TokenFile: path}.SASLMechanism()
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{"first-token", "rotated-token-longer"} {
		write(tok)
		_, first, err := m.Authenticate(context.Background(), "broker:9093")
		if err != nil {
			t.Fatal(err)
		}
		// RFC 7628: gs2 header, then auth=Bearer <token>, framed by ^A.
		if want := "n,,\x01auth=Bearer " + tok + "\x01\x01"; string(first) != want {
			t.Errorf("client first message %q, want %q", first, want)
		}
	}
	write("")
	if _, _, err := m.Authenticate(context.Background(), "broker:9093"); err == nil {
		t.Error("an empty token file authenticated")
	}
}

func TestInvalidSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		sec  security.Kafka
		want string
	}{
		{"unknown mechanism", security.Kafka{SASL: security.SASL{Mechanism: "GSSAPI"}}, "unknown SASL mechanism"},
		{"scram without password", security.Kafka{SASL: security.SASL{Mechanism: security.ScramSHA256, Username: "u"}}, "needs a user name and a password"},
		{"oauth without token file", security.Kafka{SASL: security.SASL{Mechanism: security.OAuthBearer}}, "needs a token file"},
		{"credentials without mechanism", security.Kafka{SASL: security.SASL{Username: "u", Password: password}}, "no mechanism"},
		{"cert without key", security.Kafka{TLS: security.TLS{CertFile: "c.pem"}}, "both the certificate file and the key file"},
		{"missing CA file", security.Kafka{TLS: security.TLS{CAFile: "/nonexistent/ca.pem"}}, "reading CA file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.sec.Opts()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), password.Reveal()) {
				t.Errorf("the password appears in %q", err)
			}
		})
	}
}

func TestPasswordFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(path, []byte("  s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		value   secret.String
		file    string
		want    secret.String
		wantErr bool
	}{
		{"value", "v", "", "v", false},
		{"file trimmed", "", path, "s3cret", false},
		{"both", "v", path, "", true},
		{"missing file", "", path + ".missing", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := security.Password(tc.value, tc.file, "--sasl-password")
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("got %q, %v; want %q, error %v", got.Reveal(), err, tc.want.Reveal(), tc.wantErr)
			}
		})
	}
}
