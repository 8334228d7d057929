package calllist

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/callstream/callstream/connector/event"
)

// scanner reads JSON text (RFC 8259) in one pass, validating every byte
// it reads or skips: b is the input, i the offset of the next byte.
// Strings are found eight bytes at a time (stringEnd); a string without
// escapes is used as it is, one with escapes is unquoted once.
type scanner struct {
	b []byte
	i int
	// depth is the number of arrays and objects open, at most maxDepth.
	depth int
	// src is b as a string (newStringScanner): strings without escapes
	// are parts of it, not copies.
	src string
	// utf8 is true when b is known to be valid UTF-8, so that its strings
	// need no check of their own.
	utf8 bool
	name []byte // scratch for a key with escapes
	unq  []byte // scratch for a string with escapes
	skip []byte // the closing brackets of skipValue's open values
	// sentences and deps are scratch of readSentences and
	// parseDepartments, empty between calls.
	sentences []event.Sentence
	deps      []event.Department
	// interned are strings read by readInterned; the cache lives as long
	// as the pooled scanner.
	interned map[string]string
}

// maxDepth bounds nesting, as encoding/json does.
const maxDepth = 10000

var scanners = sync.Pool{New: func() any { return new(scanner) }}

// newScanner returns a pooled scanner reading b; release it when done.
func newScanner(b []byte) *scanner {
	s := scanners.Get().(*scanner)
	s.b, s.i, s.depth, s.src, s.utf8 = b, 0, 0, "", false
	return s
}

// newStringScanner returns a pooled scanner reading str, valid UTF-8,
// whose strings share str's memory where they can; release it when done.
// The scanner never writes to its input, so str stays immutable.
func newStringScanner(str string) *scanner {
	s := newScanner(unsafe.Slice(unsafe.StringData(str), len(str)))
	s.src, s.utf8 = str, true
	return s
}

// release returns s to the pool. Nothing read from it may be used after.
func (s *scanner) release() {
	s.b, s.src = nil, ""
	scanners.Put(s)
}

// errTruncated is input that ends inside a value.
var errTruncated = errors.New("truncated JSON")

// syntaxError is input that is not JSON. Its text quotes at most one
// byte of the input.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("invalid JSON at byte %d: %s", e.off, e.msg) }

// typeError is valid JSON of another kind than the field needs.
type typeError struct {
	want string
	got  byte // a kind of peek
}

func (e *typeError) Error() string {
	return fmt.Sprintf("want %s, got a JSON %s", e.want, kindName(e.got))
}

func kindName(k byte) string {
	switch k {
	case 'n':
		return "null"
	case 'f', 't':
		return "boolean"
	case '"':
		return "string"
	case '0':
		return "number"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "value"
}

// bad is the error of an unexpected byte at s.i, or of the input's end;
// where says what was expected there.
func (s *scanner) bad(where string) error {
	if s.i >= len(s.b) {
		return errTruncated
	}
	c := s.b[s.i]
	if c < utf8.RuneSelf && c >= ' ' {
		return &syntaxError{off: s.i, msg: fmt.Sprintf("invalid character %q %s", c, where)}
	}
	return &syntaxError{off: s.i, msg: fmt.Sprintf("invalid byte %#02x %s", c, where)}
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek skips whitespace and returns the kind of the value that starts
// there: n, t, f, ", 0 (a number), { or [; 0 at the end of the input or
// at a byte that starts no value.
func (s *scanner) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	switch c := s.b[s.i]; c {
	case 'n', 't', 'f', '"', '{', '[':
		return c
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return '0'
	}
	return 0
}

// end checks that nothing but whitespace follows the value read.
func (s *scanner) end() error {
	s.ws()
	if s.i < len(s.b) {
		return &syntaxError{off: s.i, msg: "data after the top-level value"}
	}
	return nil
}

// open reads the bracket that starts an object or an array.
func (s *scanner) open() error {
	if s.depth++; s.depth > maxDepth {
		return &syntaxError{off: s.i, msg: "exceeded max depth"}
	}
	s.i++
	return nil
}

// object reads the start of an object; then key reads its keys. A value
// of another kind is skipped and reported as a *typeError.
func (s *scanner) object() error {
	switch k := s.peek(); k {
	case '{':
		return s.open()
	case 0:
		return s.bad("at start of value")
	default:
		if err := s.skipValue(); err != nil {
			return err
		}
		return &typeError{want: "an object", got: k}
	}
}

// key reads the n-th key (from 0) of the object being read, and the colon
// after it; more is false at the object's end, which it reads. The key is
// valid until the next read.
func (s *scanner) key(n int) (key []byte, more bool, err error) {
	s.ws()
	if s.i >= len(s.b) {
		return nil, false, errTruncated
	}
	switch c := s.b[s.i]; {
	case c == '}':
		s.i++
		s.depth--
		return nil, false, nil
	case n > 0 && c != ',':
		return nil, false, s.bad("after an object's value")
	case n > 0:
		s.i++
		s.ws()
	}
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false, s.bad("where a key is expected")
	}
	start := s.i + 1
	end, escaped, err := s.stringEnd()
	if err != nil {
		return nil, false, err
	}
	key = s.b[start:end]
	if escaped {
		s.name = appendUnquoted(s.name[:0], key, s.utf8)
		key = s.name
	}
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != ':' {
		return nil, false, s.bad("after an object's key")
	}
	s.i++
	return key, true, nil
}

// field moves to the n-th key (from 0) of the object being read, setting
// *name to it: the loop head of every object's reader,
//
//	var name []byte
//	err := s.object()
//	for n := 0; err == nil && s.field(n, &name, &err); n++ {
//		switch string(name) { … } // each case reads the value into err
//	}
//
// It is false at the object's end and at an error of the key's, which it
// sets in *err.
func (s *scanner) field(n int, name *[]byte, err *error) (more bool) {
	*name, more, *err = s.key(n)
	return more
}

// array reads the start of an array or null (isNull); then elem reads
// its elements. A value of another kind is skipped and reported as a
// *typeError.
func (s *scanner) array() (isNull bool, err error) {
	switch k := s.peek(); k {
	case '[':
		return false, s.open()
	case 'n':
		return true, s.skipValue()
	case 0:
		return false, s.bad("at start of value")
	default:
		if err := s.skipValue(); err != nil {
			return false, err
		}
		return false, &typeError{want: "an array", got: k}
	}
}

// elem moves to the n-th element (from 0) of the array being read, which
// the caller then reads; more is false at the array's end, which it reads.
func (s *scanner) elem(n int) (more bool, err error) {
	s.ws()
	if s.i >= len(s.b) {
		return false, errTruncated
	}
	switch c := s.b[s.i]; {
	case c == ']':
		s.i++
		s.depth--
		return false, nil
	case n > 0 && c != ',':
		return false, s.bad("after an array's element")
	case n > 0:
		s.i++
	}
	return true, nil
}

// readArray reads an array or null, each element with elem, gathering
// them in *scratch (left empty) and returning them in a slice of their
// number, nil when there are none.
func readArray[T any](s *scanner, scratch *[]T, elem func() (T, error)) ([]T, error) {
	items := (*scratch)[:0]
	defer func() {
		clear(items)
		*scratch = items[:0]
	}()
	isNull, err := s.array()
	for n := 0; err == nil && !isNull; n++ {
		var more bool
		if more, err = s.elem(n); !more {
			break
		}
		var item T
		if item, err = elem(); err == nil {
			items = append(items, item)
		}
	}
	if err != nil || len(items) == 0 {
		return nil, err
	}
	return slices.Clone(items), nil
}

// Masks of a byte in each of a word's eight lanes.
const (
	lanes = 0x0101010101010101
	highs = 0x8080808080808080
)

// stringEnd reads the string that starts at s.i (a quote), validating its
// escapes, and returns the offset of its closing quote; s.i moves past
// it. escaped says whether the string holds a backslash.
func (s *scanner) stringEnd() (end int, escaped bool, err error) {
	b := s.b
	i := s.i + 1
	for {
		// Find the next quote, backslash or control character, eight
		// bytes at a time: a lane is set where x's byte equals '"' or
		// '\\' or is below 0x20; the lowest set lane is the first such
		// byte (a borrow sets lanes only above a true one).
		for ; i+8 <= len(b); i += 8 {
			x := binary.LittleEndian.Uint64(b[i:])
			q, bs := x^('"'*lanes), x^('\\'*lanes)
			if m := (((q - lanes) &^ q) | ((bs - lanes) &^ bs) | ((x - 0x20*lanes) &^ x)) & highs; m != 0 {
				i += bits.TrailingZeros64(m) / 8
				goto special
			}
		}
		for ; i < len(b); i++ {
			if c := b[i]; c == '"' || c == '\\' || c < 0x20 {
				goto special
			}
		}
		s.i = i
		return 0, false, errTruncated
	special:
		switch b[i] {
		case '"':
			s.i = i + 1
			return i, escaped, nil
		case '\\':
			escaped = true
			if i+1 >= len(b) {
				s.i = i + 1
				return 0, false, errTruncated
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for k := i + 2; k < i+6; k++ {
					if k >= len(b) {
						s.i = k
						return 0, false, errTruncated
					}
					if unhex(b[k]) < 0 {
						s.i = k
						return 0, false, s.bad("in a \\u escape")
					}
				}
				i += 6
			default:
				s.i = i + 1
				return 0, false, s.bad("in a string escape")
			}
		default:
			s.i = i
			return 0, false, s.bad("in a string")
		}
	}
}

func unhex(c byte) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case 'a' <= c && c <= 'f':
		return rune(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// appendUnquoted appends the string whose bytes between the quotes are v,
// already validated by stringEnd, with its escapes resolved; invalid UTF-8
// and lone surrogates become U+FFFD, as in encoding/json. valid says v is
// known to be valid UTF-8.
func appendUnquoted(dst, v []byte, valid bool) []byte {
	for len(v) > 0 {
		n := bytes.IndexByte(v, '\\')
		if n < 0 {
			n = len(v)
		}
		dst = appendValidUTF8(dst, v[:n], valid)
		if v = v[n:]; len(v) == 0 {
			break
		}
		switch c := v[1]; c {
		case 'u':
			r := hex4(v[2:6])
			v = v[6:]
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if len(v) >= 6 && v[0] == '\\' && v[1] == 'u' {
					r2 = hex4(v[2:6])
				}
				if r = utf16.DecodeRune(r, r2); r != utf8.RuneError {
					v = v[6:]
				}
			}
			dst = utf8.AppendRune(dst, r)
			continue
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		default: // '"', '\\', '/'
			dst = append(dst, c)
		}
		v = v[2:]
	}
	return dst
}

func hex4(b []byte) rune {
	return unhex(b[0])<<12 | unhex(b[1])<<8 | unhex(b[2])<<4 | unhex(b[3])
}

// appendValidUTF8 appends b with each byte of invalid UTF-8 replaced by
// U+FFFD.
func appendValidUTF8(dst, b []byte, valid bool) []byte {
	if valid || utf8.Valid(b) {
		return append(dst, b...)
	}
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, "\uFFFD"...)
		} else {
			dst = append(dst, b[:n]...)
		}
		b = b[n:]
	}
	return dst
}

// number reads a number at s.i; isInt says it has neither fraction nor
// exponent.
func (s *scanner) number() (isInt bool, err error) {
	b, i := s.b, s.i
	digits := func() bool {
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return true
	}
	fail := func() error {
		s.i = i
		return s.bad("in a number")
	}
	if b[i] == '-' {
		i++
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if !digits() {
		return false, fail()
	}
	isInt = true
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return false, fail()
		}
		isInt = false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return false, fail()
		}
		isInt = false
	}
	s.i = i
	return isInt, nil
}

// literal reads true, false or null at s.i.
func (s *scanner) literal() error {
	want := "null"
	switch s.b[s.i] {
	case 't':
		want = "true"
	case 'f':
		want = "false"
	}
	if len(s.b)-s.i >= len(want) && string(s.b[s.i:s.i+len(want)]) == want {
		s.i += len(want)
		return nil
	}
	for k := 0; k < len(want); k++ {
		if s.i >= len(s.b) || s.b[s.i] != want[k] {
			return s.bad("in a literal")
		}
		s.i++
	}
	return nil
}

// skipValue reads any value, validating it.
func (s *scanner) skipValue() error {
	if k := s.peek(); k != '{' && k != '[' {
		return s.skipScalar(k)
	}
	return s.skipNested()
}

// skipScalar reads a value that is neither an object nor an array, of kind
// k (peek's).
func (s *scanner) skipScalar(k byte) error {
	var err error
	switch k {
	case '"':
		_, _, err = s.stringEnd()
	case '0':
		_, err = s.number()
	case 't', 'f', 'n':
		err = s.literal()
	default:
		err = s.bad("at start of value")
	}
	return err
}

// skipNested reads an object or an array, validating it.
func (s *scanner) skipNested() error {
	open := s.skip[:0]
	for {
		// A value.
		switch k := s.peek(); k {
		case '{':
			if err := s.open(); err != nil {
				return err
			}
			open = append(open, '}')
			_, more, err := s.key(0)
			if err != nil {
				return err
			}
			if !more {
				open = open[:len(open)-1]
				break
			}
			continue
		case '[':
			if err := s.open(); err != nil {
				return err
			}
			open = append(open, ']')
			s.ws()
			if s.i < len(s.b) && s.b[s.i] == ']' {
				s.i++
				s.depth--
				open = open[:len(open)-1]
				break
			}
			continue
		default:
			if err := s.skipScalar(k); err != nil {
				return err
			}
		}
		// After a value: close what ends here, then the next value.
		for {
			if len(open) == 0 {
				s.skip = open
				return nil
			}
			s.ws()
			if s.i >= len(s.b) {
				return errTruncated
			}
			c, closing := s.b[s.i], open[len(open)-1]
			if c == closing {
				s.i++
				s.depth--
				open = open[:len(open)-1]
				continue
			}
			if c != ',' {
				return s.bad("after a value")
			}
			if closing == '}' {
				if _, _, err := s.key(1); err != nil {
					return err
				}
			} else {
				s.i++
			}
			break
		}
	}
}

// rawValue reads any value and returns its bytes.
func (s *scanner) rawValue() ([]byte, error) {
	s.ws()
	start := s.i
	if err := s.skipValue(); err != nil {
		return nil, err
	}
	return s.b[start:s.i], nil
}

// readInt reads an integer of bits bits (0: int's size) or null.
func (s *scanner) readInt(bits int) (v int64, null bool, err error) {
	switch k := s.peek(); k {
	case 'n':
		return 0, true, s.literal()
	case '0':
	case 0:
		return 0, false, s.bad("at start of value")
	default:
		if err := s.skipValue(); err != nil {
			return 0, false, err
		}
		return 0, false, &typeError{want: "an integer", got: k}
	}
	start := s.i
	isInt, err := s.number()
	if err != nil {
		return 0, false, err
	}
	if !isInt {
		return 0, false, &typeError{want: "an integer", got: '0'}
	}
	v, ok := parseDecimal(s.b[start:s.i])
	if !ok {
		return 0, false, &typeError{want: "an integer", got: '0'}
	}
	if bits == 0 {
		bits = 64 // int is 64 bits on every platform we build for
	}
	if bits < 64 && (v < -1<<(bits-1) || v >= 1<<(bits-1)) {
		return 0, false, fmt.Errorf("number %d out of range of int%d", v, bits)
	}
	return v, false, nil
}

// parseDecimal parses a decimal int64 with an optional sign, as
// strconv.ParseInt(s, 10, 64) does, without allocating.
func parseDecimal[T ~string | ~[]byte](s T) (int64, bool) {
	if len(s) == 0 {
		return 0, false
	}
	neg := s[0] == '-'
	if s[0] == '-' || s[0] == '+' {
		s = s[1:]
	}
	if len(s) == 0 {
		return 0, false
	}
	var u uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' || u > (1<<63)/10 {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	switch {
	case neg && u <= 1<<63:
		return -int64(u), true
	case !neg && u < 1<<63:
		return int64(u), true
	}
	return 0, false
}

// intInto reads an integer of bits bits into dst, or null, which leaves dst
// as it was (as encoding/json does).
func (s *scanner) intInto(bits int, dst *int64) (null bool, err error) {
	v, null, err := s.readInt(bits)
	if err == nil && !null {
		*dst = v
	}
	return null, err
}

// readString reads a string into dst, or null, which leaves dst as it was.
func (s *scanner) readString(dst *string) (null bool, err error) {
	return s.readStringAs(dst, false)
}

// readInterned reads a string as readString does, for a field whose values
// repeat across records (a corp id, a method, a sales name): it comes from
// the scanner's cache when it was read before.
func (s *scanner) readInterned(dst *string) (null bool, err error) {
	return s.readStringAs(dst, true)
}

func (s *scanner) readStringAs(dst *string, intern bool) (null bool, err error) {
	v, inInput, null, err := s.readBytes()
	switch {
	case err != nil || null:
	case intern:
		*dst = s.intern(v)
	case inInput && s.src != "":
		end := s.i - 1 // the closing quote
		*dst = s.src[end-len(v) : end]
	default:
		*dst = string(v)
	}
	return null, err
}

// readBytes reads a string, or null. v is valid until the next read: a
// part of the input (inInput) when the string has neither escapes nor
// invalid UTF-8, else its unquoted bytes.
func (s *scanner) readBytes() (v []byte, inInput, null bool, err error) {
	switch k := s.peek(); k {
	case 'n':
		return nil, false, true, s.literal()
	case '"':
	case 0:
		return nil, false, false, s.bad("at start of value")
	default:
		if err := s.skipValue(); err != nil {
			return nil, false, false, err
		}
		return nil, false, false, &typeError{want: "a string", got: k}
	}
	start := s.i + 1
	end, escaped, err := s.stringEnd()
	if err != nil {
		return nil, false, false, err
	}
	v = s.b[start:end]
	if !escaped && (s.utf8 || utf8.Valid(v)) {
		return v, true, false, nil
	}
	s.unq = appendUnquoted(s.unq[:0], v, s.utf8)
	return s.unq, false, false, nil
}

// The scanner's cache of repeating strings: at most maxInterned of at
// most maxInternLen bytes each, emptied when full.
const (
	maxInterned  = 1024
	maxInternLen = 64
)

// intern returns b as a string, from the cache when it holds it.
func (s *scanner) intern(b []byte) string {
	if str, ok := s.interned[string(b)]; ok {
		return str
	}
	str := string(b)
	if len(b) > maxInternLen {
		return str
	}
	if len(s.interned) >= maxInterned {
		clear(s.interned)
	}
	if s.interned == nil {
		s.interned = make(map[string]string)
	}
	s.interned[str] = str
	return str
}

// rawString returns v, raw JSON just read from s, as a string of valid
// UTF-8: a part of src when s reads a string, else a copy. Invalid UTF-8
// is replaced as in strings.
func (s *scanner) rawString(v []byte) string {
	if !s.utf8 && !utf8.Valid(v) {
		return strings.ToValidUTF8(string(v), "\uFFFD")
	}
	if s.src == "" {
		return string(v)
	}
	end := s.i
	return s.src[end-len(v) : end]
}
