package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/callstream/callstream/schemas"
	"github.com/twmb/franz-go/pkg/sr"
)

// ErrUnauthorized is wrapped by Check's error when the registry refuses the
// credentials (HTTP 401 or 403).
var ErrUnauthorized = errors.New("schema registry refused the credentials")

// CheckResult is what Check found under one subject.
type CheckResult struct {
	Subject string
	// Registered is true when the subject already holds the schema, with
	// ID; otherwise Latest is the subject's latest version (0: the subject
	// has none) that the schema was checked against.
	Registered bool
	ID         int
	Latest     int
}

// Check reports whether s would be accepted under subject by Register,
// without registering anything: already there, or compatible with the
// versions the compatibility level compares against. An incompatible
// schema is an *IncompatibleError; refused credentials wrap
// ErrUnauthorized.
func (c *Client) Check(ctx context.Context, subject string, s *schemas.Schema) (CheckResult, error) {
	r := CheckResult{Subject: subject}
	ss, err := c.cl.LookupSchema(ctx, subject, sr.Schema{Schema: s.Text(), Type: sr.TypeAvro})
	if err == nil {
		r.Registered, r.ID = true, ss.ID
		return r, nil
	}
	if code := responseCode(err); code != sr.ErrSubjectNotFound.Code && code != sr.ErrSchemaNotFound.Code {
		return r, classifyAuth(fmt.Errorf("looking up schema under subject %q: %w", subject, err))
	}
	latest, err := c.cl.SchemaByVersion(ctx, subject, -1)
	switch code := responseCode(err); {
	case err == nil:
		r.Latest = latest.Version
	case code == sr.ErrSubjectNotFound.Code || code == sr.ErrVersionNotFound.Code:
		return r, nil
	default:
		return r, classifyAuth(fmt.Errorf("fetching the latest version of subject %q: %w", subject, err))
	}
	return r, classifyAuth(c.check(ctx, subject, s))
}

// classifyAuth wraps ErrUnauthorized around an error of refused
// credentials.
func classifyAuth(err error) error {
	var re *sr.ResponseError
	if errors.As(err, &re) && (re.StatusCode == http.StatusUnauthorized || re.StatusCode == http.StatusForbidden) {
		return fmt.Errorf("%w: %w", ErrUnauthorized, err)
	}
	return err
}

// CheckTopics runs Check for the value subjects of the event topics (an
// empty name is skipped) and the dead-letter topic, as RegisterTopics would
// register them. It stops at the first error that is not an
// *IncompatibleError.
func (c *Client) CheckTopics(ctx context.Context, dlq string, eventTopics ...string) ([]CheckResult, []error, error) {
	type subject struct {
		topic string
		s     *schemas.Schema
	}
	var want []subject
	for _, t := range eventTopics {
		if t != "" {
			want = append(want, subject{t, schemas.CallEvent()})
		}
	}
	want = append(want, subject{dlq, schemas.DeadLetter()})
	var (
		out          []CheckResult
		incompatible []error
	)
	for _, w := range want {
		r, err := c.Check(ctx, Subject(w.topic), w.s)
		if err != nil && !errors.Is(err, ErrIncompatible) {
			return out, incompatible, err
		}
		if err != nil {
			incompatible = append(incompatible, err)
		}
		out = append(out, r)
	}
	return out, incompatible, nil
}

// Compatibility returns the level Check and Register apply.
func (c *Client) Compatibility() Compatibility { return c.compat }
