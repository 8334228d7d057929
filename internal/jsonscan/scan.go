// Package jsonscan is a small JSON scanner for the hot paths that decode
// the vendor's records without reflection: it reads keys, strings,
// integers and nulls in place, skips or validates values, and reports
// anything it does not handle as false, so that its callers fall back to
// encoding/json. Its strings and validation agree with encoding/json:
// escapes are unescaped, invalid UTF-8 reports false, and Valid accepts
// what json.Valid accepts up to a nesting of 64.
package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds the nesting Valid follows; deeper values report false.
const maxDepth = 64

// Scanner reads JSON from a byte slice, front to back.
type Scanner struct {
	b []byte
	i int
}

// New returns a Scanner at the start of b.
func New(b []byte) *Scanner { return &Scanner{b: b} }

// Offset returns the scanner's position in its input.
func (s *Scanner) Offset() int { return s.i }

// Since returns the input from start to the scanner's position, with a
// capacity that ends there so that appending to it never overwrites the
// input.
func (s *Scanner) Since(start int) []byte { return s.b[start:s.i:s.i] }

// Valid moves past one JSON value and reports whether it is valid JSON as
// encoding/json's scanner defines it (strings may hold any bytes from 0x20
// up; escapes must be well formed).
func (s *Scanner) Valid() bool { return s.valid(0) }

// WS moves past white space.
func (s *Scanner) WS() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// Eat moves past c if it comes next and reports whether it did.
func (s *Scanner) Eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// Key reads a quoted key and returns it unescaped.
func (s *Scanner) Key() ([]byte, error) {
	start := s.i
	escaped, err := s.SkipString()
	if err != nil {
		return nil, err
	}
	if !escaped {
		return s.b[start+1 : s.i-1], nil
	}
	var k string
	if err := json.Unmarshal(s.b[start:s.i], &k); err != nil {
		return nil, fmt.Errorf("unquoting key at offset %d: %w", start, err)
	}
	return []byte(k), nil
}

// SkipString moves past the string that comes next and reports whether it
// held an escape.
func (s *Scanner) SkipString() (escaped bool, err error) {
	if !s.Eat('"') {
		return false, fmt.Errorf("expected a string at offset %d", s.i)
	}
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '\\':
			escaped = true
			s.i += 2
			continue
		case '"':
			s.i++
			return escaped, nil
		}
		s.i++
	}
	return false, errors.New("unterminated string")
}

// LooseInt reads a value as encoding/json would into an int64: null keeps
// prev, a number must parse as a decimal int64.
func (s *Scanner) LooseInt(prev int64) (int64, error) {
	if bytes.HasPrefix(s.b[s.i:], []byte("null")) {
		s.i += len("null")
		return prev, nil
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if (c < '0' || c > '9') && c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E' {
			break
		}
		s.i++
	}
	n, err := strconv.ParseInt(string(s.b[start:s.i]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("id at offset %d is not an int64", start)
	}
	return n, nil
}

// SkipValue moves past one value of any kind. It trusts the input to be
// JSON and only keeps track of nesting and strings.
func (s *Scanner) SkipValue() error {
	depth := 0
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '"':
			if _, err := s.SkipString(); err != nil {
				return err
			}
			if depth == 0 {
				return nil
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return nil
			}
			depth--
			if depth == 0 {
				s.i++
				return nil
			}
		case ',':
			if depth == 0 {
				return nil
			}
		}
		s.i++
	}
	if depth > 0 {
		return errors.New("unterminated value")
	}
	return nil
}

// End reports whether only white space follows.
func (s *Scanner) End() bool {
	s.WS()
	return s.i == len(s.b)
}

// Null moves past a null if one comes next and reports whether it did.
func (s *Scanner) Null() bool {
	if len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "null" {
		s.i += 4
		return true
	}
	return false
}

// Int reads null (leaving *dst) or a JSON integer that fits bits
// (0: an int).
func (s *Scanner) Int(dst *int64, bits int) bool {
	if s.Null() {
		return true
	}
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	digits := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	n := s.i - digits
	if n == 0 || (n > 1 && s.b[digits] == '0') {
		return false
	}
	if s.i < len(s.b) {
		if c := s.b[s.i]; c == '.' || c == 'e' || c == 'E' {
			return false
		}
	}
	if bits == 0 {
		bits = strconv.IntSize
	}
	v, err := strconv.ParseInt(string(s.b[start:s.i]), 10, bits)
	if err != nil {
		return false
	}
	*dst = v
	return true
}

// PlainString reads a string without escapes or control characters and
// returns its bytes (a key).
func (s *Scanner) PlainString() ([]byte, bool) {
	if !s.Eat('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
		s.i++
	}
	return nil, false
}

// StringValue reads a JSON string, unescaping it. Invalid UTF-8 reports
// false, since encoding/json would replace it.
func (s *Scanner) StringValue() (string, bool) {
	if !s.Eat('"') {
		return "", false
	}
	start := s.i
	ascii := true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			v := s.b[start:s.i]
			s.i++
			if !ascii && !utf8.Valid(v) {
				return "", false
			}
			return string(v), true
		case c == '\\':
			s.i = start - 1
			return s.escapedString()
		case c < 0x20:
			return "", false
		case c >= 0x80:
			ascii = false
		}
		s.i++
	}
	return "", false
}

// escapedString reads a string holding escapes.
func (s *Scanner) escapedString() (string, bool) {
	s.i++ // the opening quote
	out := make([]byte, 0, 64)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			if !utf8.Valid(out) {
				return "", false
			}
			return string(out), true
		case c < 0x20:
			return "", false
		case c != '\\':
			out = append(out, c)
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			return "", false
		}
		e := s.b[s.i+1]
		s.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return "", false
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if len(s.b)-s.i >= 6 && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
					s.i += 2
					if r2, ok = s.hex4(); !ok {
						return "", false
					}
				}
				// An unpaired surrogate becomes U+FFFD in encoding/json,
				// and may swallow the next escape: leave it to that.
				if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
					return "", false
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", false
		}
	}
	return "", false
}

func (s *Scanner) hex4() (rune, bool) {
	if len(s.b)-s.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s.b[s.i : s.i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	s.i += 4
	return r, true
}

func (s *Scanner) valid(depth int) bool {
	if s.i >= len(s.b) || depth > maxDepth {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.validContainer(depth, '}', true)
	case c == '[':
		return s.validContainer(depth, ']', false)
	case c == '"':
		return s.validString()
	case c == '-' || (c >= '0' && c <= '9'):
		return s.validNumber()
	}
	for _, lit := range [...]string{"null", "true", "false"} {
		if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
			s.i += len(lit)
			return true
		}
	}
	return false
}

func (s *Scanner) validContainer(depth int, closer byte, keyed bool) bool {
	s.i++
	s.WS()
	if s.Eat(closer) {
		return true
	}
	for {
		if keyed {
			if s.i >= len(s.b) || s.b[s.i] != '"' || !s.validString() {
				return false
			}
			s.WS()
			if !s.Eat(':') {
				return false
			}
			s.WS()
		}
		if !s.valid(depth + 1) {
			return false
		}
		s.WS()
		if s.Eat(',') {
			s.WS()
			continue
		}
		return s.Eat(closer)
	}
}

func (s *Scanner) validString() bool {
	s.i++
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if s.i+1 >= len(s.b) {
				return false
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				s.i += 2
				if _, ok := s.hex4(); !ok {
					return false
				}
			default:
				return false
			}
			continue
		}
		s.i++
	}
	return false
}

func (s *Scanner) validNumber() bool {
	s.Eat('-')
	if s.Eat('0') {
		// no more digits after a leading zero
	} else if !s.digits() {
		return false
	}
	if s.Eat('.') && !s.digits() {
		return false
	}
	if s.Eat('e') || s.Eat('E') {
		if !s.Eat('+') {
			s.Eat('-')
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// digits moves past one or more digits.
func (s *Scanner) digits() bool {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}

// Object reads an object, calling field with each key once the scanner
// stands on its value; field consumes the value.
func (s *Scanner) Object(field func(key []byte) bool) bool {
	s.WS()
	if !s.Eat('{') {
		return false
	}
	s.WS()
	if s.Eat('}') {
		return true
	}
	for {
		key, ok := s.PlainString()
		if !ok {
			return false
		}
		s.WS()
		if !s.Eat(':') {
			return false
		}
		s.WS()
		if !field(key) {
			return false
		}
		s.WS()
		if s.Eat(',') {
			s.WS()
			continue
		}
		return s.Eat('}')
	}
}
