package source

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Page is one answered getCallList page.
type Page struct {
	TotalCount int    // records in the window, as the vendor counted them for this page
	TotalPage  int    // pages in the window at the requested page size
	PageNo     int    // 1-based, as requested
	PageSize   int    // the page size the vendor used
	Message    string // data.message, the page's billed seconds, e.g. "38秒"
	// Records are the raw bytes of each element of data.result, in the
	// order received (newest first). They are not decoded: see DecodeRecord
	// and PeekID.
	Records []json.RawMessage
	// ServerDate is the response's Date header, the zero time if absent or
	// malformed.
	ServerDate time.Time
}

// envelope is the outer shape of every getCallList response.
type envelope struct {
	Code    *int   `json:"code"`
	Message string `json:"message"`
	Data    *struct {
		TotalCount int               `json:"totalCount"`
		TotalPage  int               `json:"totalPage"`
		PageNo     int               `json:"pageNo"`
		PageSize   int               `json:"pageSize"`
		Result     []json.RawMessage `json:"result"`
		Message    string            `json:"message"`
	} `json:"data"`
}

// decodePage decodes a response body. Its errors are *APIError of kind
// decode, business or auth; vendor texts in them are scrubbed of secrets.
func decodePage(body []byte, secrets ...string) (*Page, error) {
	if f, ok := decodePageFast(body); ok && f.hasCode && f.code == 0 && f.hasData &&
		f.totalCount >= 0 && f.totalPage >= 0 && f.pageNo >= 0 && f.pageSize >= 0 {
		return &Page{
			TotalCount: int(f.totalCount), TotalPage: int(f.totalPage), PageNo: int(f.pageNo),
			PageSize: int(f.pageSize), Message: f.dataMessage, Records: f.result,
		}, nil
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, &APIError{Kind: KindDecode, Err: fmt.Errorf("decoding response of %d bytes: %w", len(body), err)}
	}
	if env.Code == nil {
		return nil, &APIError{Kind: KindDecode, Err: errors.New("decoding response: no code")}
	}
	if code := *env.Code; code != 0 {
		kind := KindBusiness
		if authCodes[code] {
			kind = KindAuth
		}
		return nil, &APIError{Kind: kind, Code: code, Err: fmt.Errorf("vendor says %s", vendorText(env.Message, secrets...))}
	}
	d := env.Data
	if d == nil {
		return nil, &APIError{Kind: KindDecode, Err: errors.New("decoding response: no data")}
	}
	if d.TotalCount < 0 || d.TotalPage < 0 || d.PageNo < 0 || d.PageSize < 0 {
		return nil, &APIError{Kind: KindDecode, Err: fmt.Errorf("decoding response: negative count (totalCount %d, totalPage %d, pageNo %d, pageSize %d)",
			d.TotalCount, d.TotalPage, d.PageNo, d.PageSize)}
	}
	return &Page{
		TotalCount: d.TotalCount,
		TotalPage:  d.TotalPage,
		PageNo:     d.PageNo,
		PageSize:   d.PageSize,
		Message:    d.Message,
		Records:    d.Result,
	}, nil
}

// ErrNoID is returned by DecodeRecord and PeekID for a record without an id
// (absent, null or 0): such a record cannot be keyed.
var ErrNoID = errors.New("record has no id")

// DecodeRecord decodes one raw record. The id is decoded as an int64, never
// through a float. A record without an id is an error (ErrNoID).
func DecodeRecord(raw []byte) (Record, error) {
	if r, ok := decodeFast(raw); ok {
		if r.ID == 0 {
			return Record{}, fmt.Errorf("decoding record: %w", ErrNoID)
		}
		return r, nil
	}
	var r Record
	if err := json.Unmarshal(raw, &r); err != nil {
		return Record{}, fmt.Errorf("decoding record: %w", err)
	}
	if r.ID == 0 {
		return Record{}, fmt.Errorf("decoding record: %w", ErrNoID)
	}
	return r, nil
}

// PeekID returns the id of a raw record without decoding the rest. It
// agrees with DecodeRecord whenever DecodeRecord succeeds (keys match "id"
// without regard to case, the last one wins, a null leaves the id as it
// was), but it does not validate the rest of the record: on broken input it
// may return an id where DecodeRecord fails.
func PeekID(raw []byte) (int64, error) {
	s := scanner{b: raw}
	s.ws()
	if !s.eat('{') {
		return 0, errors.New("peeking id: record is not a JSON object")
	}
	var id int64
	s.ws()
	if s.eat('}') {
		return 0, fmt.Errorf("peeking id: %w", ErrNoID)
	}
	for {
		key, err := s.key()
		if err != nil {
			return 0, fmt.Errorf("peeking id: %w", err)
		}
		s.ws()
		if !s.eat(':') {
			return 0, fmt.Errorf("peeking id: no colon after key at offset %d", s.i)
		}
		s.ws()
		if bytes.EqualFold(key, []byte("id")) {
			if id, err = s.idValue(id); err != nil {
				return 0, fmt.Errorf("peeking id: %w", err)
			}
		} else if err := s.skipValue(); err != nil {
			return 0, fmt.Errorf("peeking id: %w", err)
		}
		s.ws()
		if s.eat(',') {
			s.ws()
			continue
		}
		if s.eat('}') {
			break
		}
		return 0, fmt.Errorf("peeking id: unexpected byte at offset %d", s.i)
	}
	if id == 0 {
		return 0, fmt.Errorf("peeking id: %w", ErrNoID)
	}
	return id, nil
}

// scanner walks the top level of a JSON object for PeekID.
type scanner struct {
	b []byte
	i int
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

func (s *scanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// key reads a quoted key and returns it unescaped.
func (s *scanner) key() ([]byte, error) {
	start := s.i
	escaped, err := s.skipString()
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

// skipString moves past a string starting at s.i and reports whether it
// held an escape.
func (s *scanner) skipString() (escaped bool, err error) {
	if !s.eat('"') {
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

// idValue reads the value of an id key as encoding/json would into an
// int64: null keeps prev, a number must parse as a decimal int64.
func (s *scanner) idValue(prev int64) (int64, error) {
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

// skipValue moves past one value of any kind. It trusts the input to be
// JSON and only keeps track of nesting and strings.
func (s *scanner) skipValue() error {
	depth := 0
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '"':
			if _, err := s.skipString(); err != nil {
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
