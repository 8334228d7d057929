// Package registry speaks to a Confluent-compatible Schema Registry: at
// start it looks up or registers callstream's value schemas under the
// subject of each topic (TopicNameStrategy, "<topic>-value"), after
// checking locally that the schema is compatible with what the subject
// already holds, and it looks schemas up by id for readers.
package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/callstream/callstream/connector/security"
	"github.com/callstream/callstream/secret"
	"github.com/twmb/franz-go/pkg/sr"
)

// Config is how to reach the registry and how strictly to check a schema
// before registering it.
type Config struct {
	// URL is the registry's base URL. It must not carry credentials.
	URL string
	// Username and Password are HTTP basic auth; both or neither.
	Username string
	Password secret.String
	// TokenFile holds a bearer token, re-read when it changes; exclusive
	// with basic auth.
	TokenFile string
	TLS       security.TLS
	// Compatibility is checked locally against the subject's versions
	// before a new schema is registered; default Backward.
	Compatibility Compatibility
}

// Validate reports the first inconsistent setting without reading files or
// dialing.
func (c Config) Validate() error {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("want an http(s) URL")
	}
	if u.User != nil {
		return errors.New("the URL must not carry credentials: give a user name and a password file")
	}
	if (c.Username == "") != (c.Password == "") {
		return errors.New("basic auth needs both a user name and a password")
	}
	if c.Username != "" && c.TokenFile != "" {
		return errors.New("give basic auth or a bearer token file, not both")
	}
	if c.TLS.On() && u.Scheme != "https" {
		return errors.New("TLS files are set but the URL is not https")
	}
	return nil
}

// Client is a registry client. It is safe for concurrent use.
type Client struct {
	cl     *sr.Client
	compat Compatibility
}

// New builds a client; nothing is dialed until the first request.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("schema registry: %w", err)
	}
	opts := []sr.ClientOpt{
		sr.URLs(cfg.URL),
		sr.UserAgent("callstream"),
		sr.HTTPClient(&http.Client{Timeout: requestTimeout}),
	}
	tc, err := cfg.TLS.Config()
	if err != nil {
		return nil, fmt.Errorf("schema registry: %w", err)
	}
	if tc != nil {
		opts = append(opts, sr.DialTLSConfig(tc))
	}
	if cfg.Username != "" {
		opts = append(opts, sr.BasicAuth(cfg.Username, cfg.Password.Reveal()))
	}
	if cfg.TokenFile != "" {
		tf := &security.TokenFile{Path: cfg.TokenFile}
		if _, err := tf.Token(); err != nil {
			return nil, fmt.Errorf("schema registry: %w", err)
		}
		opts = append(opts, sr.PreReq(func(req *http.Request) error {
			tok, err := tf.Token()
			if err != nil {
				return err
			}
			req.Header.Set("Authorization", "Bearer "+tok.Reveal())
			return nil
		}))
	}
	compat := cfg.Compatibility
	if compat == "" {
		compat = Backward
	}
	cl, err := sr.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("creating schema registry client: %w", err)
	}
	return &Client{cl: cl, compat: compat}, nil
}

// Subject is the value subject of a topic under the TopicNameStrategy.
func Subject(topic string) string { return topic + "-value" }

// SchemaText returns the text of the schema registered under id.
func (c *Client) SchemaText(ctx context.Context, id int) (string, error) {
	s, err := c.cl.SchemaByID(ctx, id)
	if err != nil {
		return "", fmt.Errorf("fetching schema id %d: %w", id, err)
	}
	if s.Type != sr.TypeAvro {
		return "", fmt.Errorf("fetching schema id %d: a %s schema, not Avro", id, s.Type)
	}
	return s.Schema, nil
}

// Lookup returns a lookup function for event.NewDecoder: each call asks the
// registry, bounded by ctx. The decoder caches what it resolved.
func (c *Client) Lookup(ctx context.Context) func(id int) (string, error) {
	return func(id int) (string, error) { return c.SchemaText(ctx, id) }
}

// responseCode returns the registry's error code of err, or 0.
func responseCode(err error) int {
	var re *sr.ResponseError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	return 0
}

// oneLine keeps a registry message to one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Mendable reports whether a failure to reach the registry is one that
// waiting may mend, so that a start waits for the registry as it waits for
// the brokers: no answer at all (a refused connection, a timeout, a name
// not yet resolvable), or an answer of 5xx, 408 or 429. Refused
// credentials, an incompatible schema or any other answer are not.
func Mendable(err error) bool {
	if err == nil || errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrIncompatible) {
		return false
	}
	var re *sr.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode >= 500 || re.StatusCode == http.StatusRequestTimeout || re.StatusCode == http.StatusTooManyRequests
	}
	var ne net.Error
	var ue *url.Error
	return errors.As(err, &ne) || errors.As(err, &ue)
}
