// Package security turns the Kafka client's security settings (TLS files,
// a SASL mechanism and its credentials) into franz-go client options, and
// TLS files into a *tls.Config that the Schema Registry client shares.
// Secrets arrive as secret.String and never reach an error message.
package security

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/callstream/callstream/secret"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TLS names the files of a TLS client configuration. The zero value means
// plaintext.
type TLS struct {
	// Enabled turns TLS on with the system's roots; any of the files below
	// turns it on too.
	Enabled bool
	// CAFile is a PEM bundle of the certificate authorities to trust,
	// replacing the system's roots.
	CAFile string
	// CertFile and KeyFile are the PEM client certificate and key for
	// mutual TLS: both or neither.
	CertFile, KeyFile string
	// ServerName overrides the name checked in the server's certificate;
	// default the host dialed.
	ServerName string
}

// On reports whether TLS is in use.
func (t TLS) On() bool {
	return t.Enabled || t.CAFile != "" || t.CertFile != "" || t.KeyFile != ""
}

// Config loads the files and returns the client configuration, or nil
// when TLS is off. Errors name the file that failed.
func (t TLS) Config() (*tls.Config, error) {
	if !t.On() {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("reading CA file %s: no PEM certificate in it", t.CAFile)
		}
		c.RootCAs = pool
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return nil, errors.New("a client certificate needs both the certificate file and the key file")
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			// The key's bytes never appear in this error: LoadX509KeyPair
			// reports only what kind of block it failed to read.
			return nil, fmt.Errorf("loading client certificate %s: %w", t.CertFile, err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// Kafka is the security of every Kafka client of the connector and of
// tail.
type Kafka struct {
	TLS  TLS
	SASL SASL
}

// Validate reports the first inconsistent setting without reading any
// file.
func (k Kafka) Validate() error {
	if (k.TLS.CertFile == "") != (k.TLS.KeyFile == "") {
		return errors.New("a client certificate needs both the certificate file and the key file")
	}
	return k.SASL.Validate()
}

// Opts returns the client options: a TLS dialer and a SASL mechanism, as
// configured. Without either it returns none.
func (k Kafka) Opts() ([]kgo.Opt, error) {
	if err := k.Validate(); err != nil {
		return nil, err
	}
	var opts []kgo.Opt
	tc, err := k.TLS.Config()
	if err != nil {
		return nil, err
	}
	if tc != nil {
		// DialTLSConfig names the server after the broker dialed when
		// ServerName is empty, as each broker has its own certificate.
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if k.SASL.Mechanism != "" {
		m, err := k.SASL.SASLMechanism()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

// Password reads a secret given as a value or as a file, not both. The
// file's content is trimmed of surrounding white space. what names the
// setting in errors, e.g. "--sasl-password".
func Password(value secret.String, file, what string) (secret.String, error) {
	switch {
	case value != "" && file != "":
		return "", fmt.Errorf("%s-file: give the secret once, not also %s", what, what)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("%s-file: %w", what, err)
		}
		return secret.String(strings.TrimSpace(string(b))), nil
	}
	return value, nil
}
