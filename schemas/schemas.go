// Package schemas holds callstream's Avro schemas (the .avsc files beside
// this file, embedded in the binary) and is the only package of ours that
// imports an Avro library (github.com/twmb/avro).
//
// Keeping the library behind this one small API means that replacing it
// touches one package: everything else encodes and decodes through Schema,
// but for the call event's encoder in connector/event (avro.go), written
// field by field for speed and held to this package's bytes by its tests.
// twmb/avro was chosen because hamba/avro, the usual choice, was archived in
// January 2026 with decoder issues left open, and linkedin/goavro works on
// map[string]any rather than structs. linkedin/goavro still appears in
// tests, as an independent implementation to check our bytes against.
//
// Conventions that callers rely on, whatever library sits underneath:
//   - A struct is matched to a record by its `avro:"name"` field tags.
//   - timestamp-millis fields take and give time.Time (UTC on decode).
//   - A ["null", T] union takes and gives *T.
//   - A union of several records takes a single-key map naming the branch
//     by its full name, map[string]any{"callstream.TaskStatus": v} (the
//     Avro JSON convention), and decodes into an interface target wrapped
//     the same way, so that branches can be told apart.
package schemas

import (
	"embed"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/twmb/avro"
)

//go:embed *.avsc
var files embed.FS

// Names of the embedded schemas' records, as Schema.Name reports them.
const (
	CallEventName  = "callstream.CallEvent"
	DeadLetterName = "callstream.DeadLetter"
)

// soeMagic starts every single-object encoded message (Avro specification,
// "Single-object encoding").
var soeMagic = [2]byte{0xC3, 0x01}

// ErrNotSingleObject is returned by SingleObjectFingerprint for data that
// does not start with the single-object marker C3 01 and a full
// fingerprint.
var ErrNotSingleObject = errors.New("not Avro single-object encoded")

// Schema is a parsed Avro schema. It is safe for concurrent use.
type Schema struct {
	s           *avro.Schema
	name        string
	fingerprint [8]byte
}

var (
	callEvent  = mustLoad("call_event.avsc")
	deadLetter = mustLoad("dead_letter.avsc")
)

// CallEvent returns the value schema of the calls and failed topics,
// schemas/call_event.avsc.
func CallEvent() *Schema { return callEvent }

// DeadLetter returns the value schema of the dead-letter topic,
// schemas/dead_letter.avsc.
func DeadLetter() *Schema { return deadLetter }

// mustLoad parses an embedded file. A failure is a bug in the build, caught
// by the first test that imports the package, so it panics.
func mustLoad(file string) *Schema {
	text, err := files.ReadFile(file)
	if err != nil {
		panic(fmt.Sprintf("schemas: reading embedded %s: %v", file, err))
	}
	s, err := Parse(string(text))
	if err != nil {
		panic(fmt.Sprintf("schemas: parsing embedded %s: %v", file, err))
	}
	return s
}

// Parse parses the JSON text of an Avro schema, for example one that a
// schema registry returned.
func Parse(text string) (*Schema, error) {
	s, err := avro.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("parsing Avro schema: %w", err)
	}
	return wrap(s), nil
}

func wrap(s *avro.Schema) *Schema {
	w := &Schema{s: s}
	// The Rabin hash writes its 64-bit value big-endian; the single-object
	// header and every other implementation write it little-endian.
	be := s.Fingerprint(avro.NewRabin())
	binary.LittleEndian.PutUint64(w.fingerprint[:], binary.BigEndian.Uint64(be))
	root := s.Root()
	w.name = root.Name
	if root.Namespace != "" && root.Name != "" {
		w.name = root.Namespace + "." + root.Name
	}
	return w
}

// Name returns the full name of the schema's top-level named type, such as
// "callstream.CallEvent", or "" for an unnamed schema (a primitive, array,
// map or union).
func (s *Schema) Name() string { return s.name }

// Text returns the schema's JSON text as it was parsed, docs included.
func (s *Schema) Text() string { return s.s.String() }

// Canonical returns the schema's Parsing Canonical Form: the JSON text
// without docs, defaults and aliases, that fingerprints and registries
// compare.
func (s *Schema) Canonical() []byte { return s.s.Canonical() }

// Fingerprint returns the CRC-64-AVRO (Rabin) fingerprint of the Parsing
// Canonical Form, in the little-endian byte order in which the
// single-object header carries it.
func (s *Schema) Fingerprint() [8]byte { return s.fingerprint }

// Append appends the bare Avro binary datum of v to dst. On error the
// returned slice is nil.
func (s *Schema) Append(dst []byte, v any) ([]byte, error) {
	out, err := s.s.AppendEncode(dst, v)
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", s.label(), err)
	}
	return out, nil
}

// SingleObjectHeader returns the header of Avro single-object encoding
// for this schema: C3 01 and the schema's 8-byte little-endian
// fingerprint. The encoding is the header, then the datum of Append.
func (s *Schema) SingleObjectHeader() []byte {
	return append(soeMagic[:len(soeMagic):len(soeMagic)], s.fingerprint[:]...)
}

// Decode decodes the bare datum in data into v, a non-nil pointer, and
// fails if bytes are left over.
func (s *Schema) Decode(data []byte, v any) error {
	rest, err := s.s.Decode(data, v, avro.TaggedUnions())
	if err != nil {
		return fmt.Errorf("decoding %s: %w", s.label(), err)
	}
	if len(rest) != 0 {
		return fmt.Errorf("decoding %s: %d bytes left after the datum", s.label(), len(rest))
	}
	return nil
}

// SingleObjectFingerprint returns the fingerprint in a single-object
// encoded message and the datum that follows it, or ErrNotSingleObject.
func SingleObjectFingerprint(data []byte) (fp [8]byte, datum []byte, err error) {
	if len(data) < 10 || data[0] != soeMagic[0] || data[1] != soeMagic[1] {
		return fp, nil, ErrNotSingleObject
	}
	copy(fp[:], data[2:10])
	return fp, data[10:], nil
}

// CheckCompatibility reports whether data written with writer can be read
// with reader; nil means it can.
func CheckCompatibility(writer, reader *Schema) error {
	if err := avro.CheckCompatibility(writer.s, reader.s); err != nil {
		return fmt.Errorf("checking %s against %s: %w", writer.label(), reader.label(), err)
	}
	return nil
}

// Resolve returns a schema that decodes data written with writer into the
// shape of reader (fields added with defaults, removed fields skipped,
// promotions), after checking that the two are compatible. It returns
// reader itself when the canonical forms are equal.
func Resolve(writer, reader *Schema) (*Schema, error) {
	r, err := avro.Resolve(writer.s, reader.s)
	if err != nil {
		return nil, fmt.Errorf("resolving %s against %s: %w", writer.label(), reader.label(), err)
	}
	if r == reader.s {
		return reader, nil
	}
	return wrap(r), nil
}

func (s *Schema) label() string {
	if s.name == "" {
		return "Avro value"
	}
	return s.name
}
