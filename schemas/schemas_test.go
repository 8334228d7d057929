package schemas

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/internal/avrotest"
	"github.com/linkedin/goavro/v2"
)

// TestEmbedded checks each embedded schema against an independent
// implementation, goavro, reading the .avsc file from disk: the same
// canonical form and fingerprint.
//
// goavro keeps {"type":"long"} where the specification's [PRIMITIVES] rule
// and Java write "long" for a long with a logicalType
// (github.com/linkedin/goavro/issues/174), so the test applies that one
// rule to the text before goavro sees it.
func TestEmbedded(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		schema *Schema
	}{
		{CallEventName, "call_event.avsc", CallEvent()},
		{DeadLetterName, "dead_letter.avsc", DeadLetter()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.schema.Name(); got != tc.name {
				t.Errorf("Name() = %q, want %q", got, tc.name)
			}
			if got := tc.schema.Text(); got != string(text) {
				t.Errorf("Text() differs from %s", tc.file)
			}
			codec, err := goavro.NewCodec(avrotest.StripLogicalTypes(t, text))
			if err != nil {
				t.Fatalf("goavro parsing %s: %v", tc.file, err)
			}
			if got, want := string(tc.schema.Canonical()), codec.CanonicalSchema(); got != want {
				t.Errorf("Canonical():\n got %s\nwant %s", got, want)
			}
			var want [8]byte
			binary.LittleEndian.PutUint64(want[:], codec.Rabin)
			if got := tc.schema.Fingerprint(); got != want {
				t.Errorf("Fingerprint() = %x, want %x (goavro)", got, want)
			}
		})
	}
}

// TestFingerprintKnownValues checks the byte order and the hash against the
// values in the Avro project's schema-tests.txt.
func TestFingerprintKnownValues(t *testing.T) {
	tests := []struct {
		schema string
		want   int64
	}{
		{`"null"`, 7195948357588979594},
		{`"int"`, 8247732601305521295},
		{`"string"`, -8142146995180207161},
	}
	for _, tc := range tests {
		t.Run(tc.schema, func(t *testing.T) {
			s, err := Parse(tc.schema)
			if err != nil {
				t.Fatal(err)
			}
			fp := s.Fingerprint()
			if got := int64(binary.LittleEndian.Uint64(fp[:])); got != tc.want {
				t.Errorf("fingerprint of %s = %d, want %d", tc.schema, got, tc.want)
			}
			if s.Name() != "" {
				t.Errorf("Name() of %s = %q, want empty", tc.schema, s.Name())
			}
		})
	}
}

const pointSchema = `{"type":"record","name":"Point","namespace":"test","doc":"a point","fields":[
	{"name":"x","type":"long"},
	{"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},
	{"name":"label","type":["null","string"],"default":null}]}`

type point struct {
	X     int64     `avro:"x"`
	At    time.Time `avro:"at"`
	Label *string   `avro:"label"`
}

func TestSingleObjectRoundTrip(t *testing.T) {
	s, err := Parse(pointSchema)
	if err != nil {
		t.Fatal(err)
	}
	label := "p"
	in := point{X: -3, At: time.UnixMilli(1742883984490).UTC(), Label: &label}
	prefix := []byte("keep")
	out, err := s.Append(append(prefix, s.SingleObjectHeader()...), &in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, []byte("keep\xC3\x01")) {
		t.Fatalf("encoded % x, want the prefix then C3 01", out)
	}
	fp := s.Fingerprint()
	if !bytes.Equal(out[6:14], fp[:]) {
		t.Errorf("header fingerprint % x, want % x", out[6:14], fp)
	}
	var got point
	gotFP, datum, err := SingleObjectFingerprint(out[4:])
	if err != nil || gotFP != fp {
		t.Fatalf("SingleObjectFingerprint = % x, %v; want % x", gotFP, err, fp)
	}
	if err := s.Decode(datum, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, in) {
		t.Errorf("round trip: got %+v, want %+v", got, in)
	}
	bare, err := s.Append(nil, &in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bare, out[14:]) {
		t.Errorf("Append = % x, want the datum % x", bare, out[14:])
	}
}

func TestDecodeErrors(t *testing.T) {
	s, err := Parse(pointSchema)
	if err != nil {
		t.Fatal(err)
	}
	good, err := s.Append(s.SingleObjectHeader(), &point{X: 1})
	if err != nil {
		t.Fatal(err)
	}
	otherFP := bytes.Clone(good)
	otherFP[2] ^= 0xFF
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not Avro single-object"},
		{"bad magic", append([]byte{0xC3, 0x02}, good[2:]...), "not Avro single-object"},
		{"short header", good[:9], "not Avro single-object"},
		{"other fingerprint", otherFP, "fingerprint"},
		{"trailing bytes", append(bytes.Clone(good), 0), "left after the datum"},
		{"truncated datum", good[:11], "decoding test.Point"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p point
			fp, datum, err := SingleObjectFingerprint(tc.data)
			if err == nil && fp != s.Fingerprint() {
				err = fmt.Errorf("fingerprint %x is not the schema's", fp)
			}
			if err == nil {
				err = s.Decode(datum, &p)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("decoding % x = %v, want an error containing %q", tc.data, err, tc.want)
			}
		})
	}
	if _, _, err := SingleObjectFingerprint([]byte{1}); !errors.Is(err, ErrNotSingleObject) {
		t.Errorf("SingleObjectFingerprint error = %v, want ErrNotSingleObject", err)
	}
}

func TestEncodeError(t *testing.T) {
	s, err := Parse(pointSchema)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := s.Append([]byte("x"), struct{ Y int }{}); err == nil || out != nil {
		t.Errorf("Append of a mismatched struct = %q, %v; want nil and an error", out, err)
	}
}

func TestParseError(t *testing.T) {
	if _, err := Parse(`{"type":"record","name":"R","fields":[{"name":"a","type":"nope"}]}`); err == nil {
		t.Error("Parse of an unknown type succeeded")
	}
}

// TestTaggedUnion checks the convention the package doc promises for a
// union of several records: a single-key map selects the branch on encode,
// and an interface target decodes wrapped the same way.
func TestTaggedUnion(t *testing.T) {
	s := mustParse(t, `{"type":"record","name":"U","namespace":"test","fields":[{"name":"v","type":["null",
		{"type":"record","name":"A","fields":[{"name":"a","type":"long"}]},
		{"type":"record","name":"B","fields":[{"name":"a","type":"long"}]}]}]}`)
	type b struct {
		A int64 `avro:"a"`
	}
	in := struct {
		V any `avro:"v"`
	}{map[string]any{"test.B": &b{A: 9}}}
	data, err := s.Append(nil, &in)
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{4, 18}; !bytes.Equal(data, want) {
		t.Errorf("encoded % x, want % x (branch 2, then 9)", data, want)
	}
	var out struct {
		V any `avro:"v"`
	}
	if err := s.Decode(data, &out); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"test.B": map[string]any{"a": int64(9)}}
	if !reflect.DeepEqual(out.V, want) {
		t.Errorf("decoded %#v, want %#v", out.V, want)
	}
}

func mustParse(t *testing.T, text string) *Schema {
	t.Helper()
	s, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
