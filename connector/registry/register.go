package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/callstream/callstream/schemas"
	"github.com/twmb/franz-go/pkg/sr"
)

// requestTimeout bounds one request to the registry.
const requestTimeout = 30 * time.Second

// Compatibility is the rule a new schema must meet against the versions a
// subject already holds, named as the registry names its levels.
type Compatibility string

// Compatibility levels. BACKWARD: readers with the new schema read data
// written with the previous one (the registry's default). FORWARD: readers
// with the previous schema read data written with the new one. FULL: both.
// The _TRANSITIVE forms check every version, not only the latest. NONE:
// no check.
const (
	None               Compatibility = "NONE"
	Backward           Compatibility = "BACKWARD"
	BackwardTransitive Compatibility = "BACKWARD_TRANSITIVE"
	Forward            Compatibility = "FORWARD"
	ForwardTransitive  Compatibility = "FORWARD_TRANSITIVE"
	Full               Compatibility = "FULL"
	FullTransitive     Compatibility = "FULL_TRANSITIVE"
)

var levels = []Compatibility{None, Backward, BackwardTransitive, Forward, ForwardTransitive, Full, FullTransitive}

// ParseCompatibility reads a level, case-insensitively.
func ParseCompatibility(s string) (Compatibility, error) {
	for _, l := range levels {
		if strings.EqualFold(s, string(l)) {
			return l, nil
		}
	}
	names := make([]string, len(levels))
	for i, l := range levels {
		names[i] = string(l)
	}
	return "", fmt.Errorf("unknown compatibility %q (want one of %s)", s, strings.Join(names, ", "))
}

func (l Compatibility) transitive() bool { return strings.HasSuffix(string(l), "_TRANSITIVE") }
func (l Compatibility) backward() bool   { return strings.HasPrefix(string(l), "BACKWARD") || l.full() }
func (l Compatibility) forward() bool    { return strings.HasPrefix(string(l), "FORWARD") || l.full() }
func (l Compatibility) full() bool       { return strings.HasPrefix(string(l), "FULL") }

// ErrIncompatible is wrapped by an *IncompatibleError.
var ErrIncompatible = errors.New("schema is incompatible")

// IncompatibleError refuses a schema that breaks the compatibility rule
// against a version the subject holds.
type IncompatibleError struct {
	Subject string
	Version int
	Level   Compatibility
	Err     error
}

func (e *IncompatibleError) Error() string {
	return fmt.Sprintf("schema for subject %q is not %s compatible with its version %d: %v", e.Subject, e.Level, e.Version, e.Err)
}

// Unwrap lets errors.Is find ErrIncompatible.
func (e *IncompatibleError) Unwrap() error { return ErrIncompatible }

// Register returns the id of s under subject: the id it already has there,
// or, after the local compatibility check against the subject's versions,
// the id the registry gives it. An incompatible schema is refused with an
// *IncompatibleError before anything is registered.
func (c *Client) Register(ctx context.Context, subject string, s *schemas.Schema) (int, error) {
	want := sr.Schema{Schema: s.Text(), Type: sr.TypeAvro}
	ss, err := c.cl.LookupSchema(ctx, subject, want)
	if err == nil {
		return ss.ID, nil
	}
	if code := responseCode(err); code != sr.ErrSubjectNotFound.Code && code != sr.ErrSchemaNotFound.Code {
		return 0, fmt.Errorf("looking up schema under subject %q: %w", subject, err)
	}
	if err := c.check(ctx, subject, s); err != nil {
		return 0, err
	}
	id, err := c.cl.RegisterSchema(ctx, subject, want, -1, -1)
	if err != nil {
		return 0, fmt.Errorf("registering schema under subject %q: %s", subject, oneLine(err.Error()))
	}
	return id, nil
}

// check compares s with the subject's latest version, or with all of them
// for a transitive level. A subject without versions accepts anything.
func (c *Client) check(ctx context.Context, subject string, s *schemas.Schema) error {
	if c.compat == None {
		return nil
	}
	versions := []int{-1}
	if c.compat.transitive() {
		var err error
		if versions, err = c.cl.SubjectVersions(ctx, subject); err != nil {
			if responseCode(err) == sr.ErrSubjectNotFound.Code {
				return nil
			}
			return fmt.Errorf("listing versions of subject %q: %w", subject, err)
		}
	}
	for _, v := range versions {
		ss, err := c.cl.SchemaByVersion(ctx, subject, v)
		if err != nil {
			if code := responseCode(err); code == sr.ErrSubjectNotFound.Code || code == sr.ErrVersionNotFound.Code {
				return nil
			}
			return fmt.Errorf("fetching version %d of subject %q: %w", v, subject, err)
		}
		if err := c.compatible(ss, s); err != nil {
			return &IncompatibleError{Subject: subject, Version: ss.Version, Level: c.compat, Err: err}
		}
	}
	return nil
}

// compatible applies the level's directions to one registered version.
func (c *Client) compatible(old sr.SubjectSchema, s *schemas.Schema) error {
	if old.Type != sr.TypeAvro {
		return fmt.Errorf("the version is a %s schema, not Avro", old.Type)
	}
	prev, err := schemas.Parse(old.Schema.Schema)
	if err != nil {
		return fmt.Errorf("reading the version: %w", err)
	}
	if c.compat.backward() {
		if err := schemas.CheckCompatibility(prev, s); err != nil {
			return fmt.Errorf("new readers cannot read old data: %w", err)
		}
	}
	if c.compat.forward() {
		if err := schemas.CheckCompatibility(s, prev); err != nil {
			return fmt.Errorf("old readers cannot read new data: %w", err)
		}
	}
	return nil
}

// IDs are the registry ids that frame the values: the event schema's under
// the event topics' subjects, the dead letter's under the dead-letter
// subject.
type IDs struct {
	CallEvent, DeadLetter int
}

// RegisterTopics registers (or finds) schemas/call_event.avsc under the
// subjects of the event topics (calls, failed and latest: one schema for
// all, so readers need one deserializer) and schemas/dead_letter.avsc under
// the dead-letter topic's. An empty event topic name is skipped. A
// registry assigns one id to one schema whatever the subject; ids that
// differ between the event subjects are refused, as every event value
// carries one id.
func (c *Client) RegisterTopics(ctx context.Context, dlq string, eventTopics ...string) (IDs, error) {
	var ids IDs
	first := ""
	for _, topic := range eventTopics {
		if topic == "" {
			continue
		}
		id, err := c.Register(ctx, Subject(topic), schemas.CallEvent())
		if err != nil {
			return ids, err
		}
		if first == "" {
			first, ids.CallEvent = topic, id
		} else if id != ids.CallEvent {
			return ids, fmt.Errorf("registering schemas: the event schema has id %d under %q but %d under %q",
				ids.CallEvent, Subject(first), id, Subject(topic))
		}
	}
	var err error
	if ids.DeadLetter, err = c.Register(ctx, Subject(dlq), schemas.DeadLetter()); err != nil {
		return ids, err
	}
	return ids, nil
}
