package source

import "encoding/json"

// maxDepth bounds the nesting the fast page decoder follows; deeper
// values are left to encoding/json.
const maxDepth = 64

// pageFields is a page's data as the fast decoder reads it.
type pageFields struct {
	code                                    int
	message                                 string
	totalCount, totalPage, pageNo, pageSize int64
	dataMessage                             string
	result                                  []json.RawMessage
	hasCode, hasData                        bool
}

// decodePageFast decodes a response body in one pass, for the shape the
// vendor sends: the envelope's keys spelled exactly, integers, strings and
// a result array of valid JSON values, which it slices out of body without
// copying. It reports false for anything else, including every malformed
// body, and the caller then decodes with encoding/json, whose result it
// matches whenever it reports true.
func decodePageFast(body []byte) (pageFields, bool) {
	var p pageFields
	s := scanner{b: body}
	ok := s.object(func(key []byte) bool {
		switch string(key) {
		case "code":
			var v int64
			if s.null() || !s.int64Into(&v, 0) {
				return false
			}
			p.code, p.hasCode = int(v), true
			return true
		case "message":
			return s.stringInto(&p.message)
		case "data":
			if s.null() {
				return false
			}
			p.hasData = true
			return s.object(func(key []byte) bool { return s.dataField(&p, key) })
		}
		return false
	})
	return p, ok && s.end()
}

func (s *scanner) dataField(p *pageFields, key []byte) bool {
	switch string(key) {
	case "totalCount":
		return s.int64Into(&p.totalCount, 0)
	case "totalPage":
		return s.int64Into(&p.totalPage, 0)
	case "pageNo":
		return s.int64Into(&p.pageNo, 0)
	case "pageSize":
		return s.int64Into(&p.pageSize, 0)
	case "message":
		return s.stringInto(&p.dataMessage)
	case "result":
		return s.result(p)
	}
	return false
}

// result reads the result array, each element a valid JSON value.
func (s *scanner) result(p *pageFields) bool {
	if s.null() {
		p.result = nil
		return true
	}
	if !s.eat('[') {
		return false
	}
	p.result = make([]json.RawMessage, 0, 1000)
	s.ws()
	if s.eat(']') {
		return true
	}
	for {
		start := s.i
		if !s.valid(0) {
			return false
		}
		p.result = append(p.result, s.b[start:s.i:s.i])
		s.ws()
		if s.eat(',') {
			s.ws()
			continue
		}
		return s.eat(']')
	}
}

// stringInto reads null (leaving *dst) or a string.
func (s *scanner) stringInto(dst *string) bool {
	if s.null() {
		return true
	}
	v, ok := s.stringValue()
	*dst = v
	return ok
}

// object reads an object, calling field with each key once the scanner
// stands on its value; field consumes the value.
func (s *scanner) object(field func(key []byte) bool) bool {
	s.ws()
	if !s.eat('{') {
		return false
	}
	s.ws()
	if s.eat('}') {
		return true
	}
	for {
		key, ok := s.plainString()
		if !ok {
			return false
		}
		s.ws()
		if !s.eat(':') {
			return false
		}
		s.ws()
		if !field(key) {
			return false
		}
		s.ws()
		if s.eat(',') {
			s.ws()
			continue
		}
		return s.eat('}')
	}
}

// valid moves past one JSON value, reporting whether it is valid JSON as
// encoding/json's scanner defines it (strings may hold any bytes from 0x20
// up, escapes must be well formed).
func (s *scanner) valid(depth int) bool {
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

func (s *scanner) validContainer(depth int, closer byte, keyed bool) bool {
	s.i++
	s.ws()
	if s.eat(closer) {
		return true
	}
	for {
		if keyed {
			if s.i >= len(s.b) || s.b[s.i] != '"' || !s.validString() {
				return false
			}
			s.ws()
			if !s.eat(':') {
				return false
			}
			s.ws()
		}
		if !s.valid(depth + 1) {
			return false
		}
		s.ws()
		if s.eat(',') {
			s.ws()
			continue
		}
		return s.eat(closer)
	}
}

func (s *scanner) validString() bool {
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

func (s *scanner) validNumber() bool {
	s.eat('-')
	if s.eat('0') {
		// no more digits after a leading zero
	} else if !s.digits() {
		return false
	}
	if s.eat('.') && !s.digits() {
		return false
	}
	if s.eat('e') || s.eat('E') {
		if !s.eat('+') {
			s.eat('-')
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// digits moves past one or more digits.
func (s *scanner) digits() bool {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}
