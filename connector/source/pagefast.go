package source

import (
	"encoding/json"

	"github.com/callstream/callstream/internal/jsonscan"
)

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
	s := jsonscan.New(body)
	ok := s.Object(func(key []byte) bool {
		switch string(key) {
		case "code":
			var v int64
			if s.Null() || !s.Int(&v, 0) {
				return false
			}
			p.code, p.hasCode = int(v), true
			return true
		case "message":
			return stringInto(s, &p.message)
		case "data":
			if s.Null() {
				return false
			}
			p.hasData = true
			return s.Object(func(key []byte) bool { return dataField(s, &p, key) })
		}
		return false
	})
	return p, ok && s.End()
}

func dataField(s *jsonscan.Scanner, p *pageFields, key []byte) bool {
	switch string(key) {
	case "totalCount":
		return s.Int(&p.totalCount, 0)
	case "totalPage":
		return s.Int(&p.totalPage, 0)
	case "pageNo":
		return s.Int(&p.pageNo, 0)
	case "pageSize":
		return s.Int(&p.pageSize, 0)
	case "message":
		return stringInto(s, &p.dataMessage)
	case "result":
		return result(s, p)
	}
	return false
}

// result reads the result array, each element a valid JSON value.
func result(s *jsonscan.Scanner, p *pageFields) bool {
	if s.Null() {
		p.result = nil
		return true
	}
	if !s.Eat('[') {
		return false
	}
	p.result = make([]json.RawMessage, 0, 1000)
	s.WS()
	if s.Eat(']') {
		return true
	}
	for {
		start := s.Offset()
		if !s.Valid() {
			return false
		}
		p.result = append(p.result, s.Since(start))
		s.WS()
		if s.Eat(',') {
			s.WS()
			continue
		}
		return s.Eat(']')
	}
}

// stringInto reads null (leaving *dst) or a string.
func stringInto(s *jsonscan.Scanner, dst *string) bool {
	if s.Null() {
		return true
	}
	v, ok := s.StringValue()
	*dst = v
	return ok
}
