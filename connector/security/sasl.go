package security

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/callstream/callstream/secret"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// SASL mechanisms, as --sasl-mechanism names them.
const (
	Plain       = "PLAIN"
	ScramSHA256 = "SCRAM-SHA-256"
	ScramSHA512 = "SCRAM-SHA-512"
	OAuthBearer = "OAUTHBEARER"
)

// Mechanisms lists the SASL mechanisms supported.
var Mechanisms = []string{Plain, ScramSHA256, ScramSHA512, OAuthBearer}

// ErrEmptyToken is an OAUTHBEARER token file that holds no token.
var ErrEmptyToken = errors.New("token file is empty")

// SASL is the authentication of the Kafka clients. The zero value means
// none.
type SASL struct {
	// Mechanism is one of Mechanisms, or empty for no SASL.
	Mechanism string
	// Username and Password authenticate PLAIN and SCRAM.
	Username string
	Password secret.String
	// TokenFile holds the OAUTHBEARER token. It is read at every
	// authentication (every new connection and every re-authentication the
	// broker asks for), so a token rotated in the file by a sidecar is used
	// from the next authentication on, without a restart.
	TokenFile string
}

// Validate reports a mechanism that is unknown or lacks its credentials.
func (s SASL) Validate() error {
	switch s.Mechanism {
	case "":
		if s.Username != "" || s.Password != "" || s.TokenFile != "" {
			return errors.New("SASL credentials are set but no mechanism is chosen")
		}
	case Plain, ScramSHA256, ScramSHA512:
		if s.Username == "" || s.Password == "" {
			return fmt.Errorf("SASL %s needs a user name and a password", s.Mechanism)
		}
	case OAuthBearer:
		if s.TokenFile == "" {
			return errors.New("SASL OAUTHBEARER needs a token file")
		}
	default:
		return fmt.Errorf("unknown SASL mechanism %q (want one of %s)", s.Mechanism, strings.Join(Mechanisms, ", "))
	}
	return nil
}

// SASLMechanism returns the franz-go mechanism, or an error naming what is
// missing.
func (s SASL) SASLMechanism() (sasl.Mechanism, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	switch s.Mechanism {
	case Plain:
		return plain.Auth{User: s.Username, Pass: s.Password.Reveal()}.AsMechanism(), nil
	case ScramSHA256:
		return scram.Auth{User: s.Username, Pass: s.Password.Reveal()}.AsSha256Mechanism(), nil
	case ScramSHA512:
		return scram.Auth{User: s.Username, Pass: s.Password.Reveal()}.AsSha512Mechanism(), nil
	}
	tf := &TokenFile{Path: s.TokenFile}
	return oauth.Oauth(func(context.Context) (oauth.Auth, error) {
		tok, err := tf.Token()
		return oauth.Auth{Token: tok.Reveal()}, err
	}), nil
}

// TokenFile is a bearer token kept in a file that something else rotates
// (a sidecar, a projected Kubernetes volume). Token re-reads the file when
// its size or modification time changed since the last read. It is safe
// for concurrent use.
type TokenFile struct {
	Path string

	mu      sync.Mutex
	size    int64
	modTime time.Time
	token   secret.String
}

// Token returns the file's token, trimmed of white space. A missing or
// empty file is an error naming the file, never the token.
func (f *TokenFile) Token() (secret.String, error) {
	fi, err := os.Stat(f.Path)
	if err != nil {
		return "", fmt.Errorf("reading token file: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.token != "" && fi.Size() == f.size && fi.ModTime().Equal(f.modTime) {
		return f.token, nil
	}
	b, err := os.ReadFile(f.Path)
	if err != nil {
		return "", fmt.Errorf("reading token file: %w", err)
	}
	tok := secret.String(strings.TrimSpace(string(b)))
	if tok == "" {
		return "", fmt.Errorf("reading token file %s: %w", f.Path, ErrEmptyToken)
	}
	f.token, f.size, f.modTime = tok, fi.Size(), fi.ModTime()
	return tok, nil
}
