package calllist

import (
	"errors"
	"fmt"

	"github.com/cespare/xxhash/v2"
)

// Page is one answered getCallList page.
type Page struct {
	TotalCount int // records in the window, as the vendor counted them for this page
	TotalPage  int // pages in the window at the page size the vendor used
	PageNo     int // 1-based
	PageSize   int // the page size the vendor used, which may be less than asked
	// Records are data.result's elements in the order received (newest
	// first), each sliced out of the body with its id and hash.
	Records []Raw
}

// Raw is one record of a page as received.
type Raw struct {
	// JSON is the record's bytes, a slice of the response body.
	JSON []byte
	// Hash is the xxhash of JSON: equal bytes, equal hash.
	Hash uint64
	// ID is the record's id; 0 when Err is set.
	ID int64
	// Err is why no id could be read: a *DecodeError with ReasonRecordJSON
	// (not an object, an id that is not an integer) or ReasonNoID.
	Err error
}

// CodeError is an answer whose code is not 0: a business error, or a
// refusal of the credentials. Message is the vendor's text, unscrubbed:
// callers quote it only after removing secrets.
type CodeError struct {
	Code    int
	Message string
}

func (e *CodeError) Error() string { return fmt.Sprintf("code %d: %s", e.Code, e.Message) }

// ErrMalformed is wrapped by every error of DecodePage that is not a
// *CodeError: the body is not the envelope the vendor documents.
var ErrMalformed = errors.New("malformed response")

// DecodePage decodes a response body in one pass: the envelope
// {"code","message","data":{"totalCount","totalPage","pageNo","pageSize",
// "result","message"}} and, for each record of result, its bytes, hash
// and id. Keys of the envelope it does not know are skipped. A body that is
// not valid JSON, lacks code or data, or holds a negative count wraps
// ErrMalformed; a code other than 0 is a *CodeError.
func DecodePage(body []byte) (*Page, error) {
	s := newScanner(body)
	defer s.release()
	var (
		p         Page
		code      *int
		message   string
		sawData   bool
		dataIsNil bool
	)
	var name []byte
	err := s.object()
	for n := 0; err == nil && s.field(n, &name, &err); n++ {
		switch string(name) {
		case "code":
			var v int64
			var null bool
			v, null, err = s.readInt(0)
			if err == nil && !null {
				c := int(v)
				code = &c
			} else if null {
				code = nil
			}
		case "message":
			_, err = s.readString(&message)
		case "data":
			sawData = true
			if dataIsNil = s.peek() == 'n'; dataIsNil {
				err = s.skipValue()
			} else {
				err = p.readData(s)
			}
		default:
			err = s.skipValue()
		}
	}
	if err == nil {
		err = s.end()
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	switch {
	case code == nil:
		return nil, fmt.Errorf("%w: no code", ErrMalformed)
	case *code != 0:
		return nil, &CodeError{Code: *code, Message: message}
	case !sawData || dataIsNil:
		return nil, fmt.Errorf("%w: no data", ErrMalformed)
	case p.TotalCount < 0 || p.TotalPage < 0 || p.PageNo < 0 || p.PageSize < 0:
		return nil, fmt.Errorf("%w: negative count (totalCount %d, totalPage %d, pageNo %d, pageSize %d)",
			ErrMalformed, p.TotalCount, p.TotalPage, p.PageNo, p.PageSize)
	}
	return &p, nil
}

// readData reads the object data.
func (p *Page) readData(s *scanner) error {
	var name []byte
	err := s.object()
	for n := 0; err == nil && s.field(n, &name, &err); n++ {
		var dst *int
		switch string(name) {
		case "totalCount":
			dst = &p.TotalCount
		case "totalPage":
			dst = &p.TotalPage
		case "pageNo":
			dst = &p.PageNo
		case "pageSize":
			dst = &p.PageSize
		case "result":
			err = p.readResult(s)
			continue
		default:
			err = s.skipValue()
			continue
		}
		v := int64(*dst)
		_, err = s.intInto(0, &v)
		*dst = int(v)
	}
	return err
}

// readResult slices each element of the result array out of the body.
func (p *Page) readResult(s *scanner) error {
	p.Records = p.Records[:0]
	switch s.peek() {
	case 'n':
		return s.skipValue()
	case '[':
	default:
		return errors.New("result is not an array")
	}
	if err := s.open(); err != nil {
		return err
	}
	for n := 0; ; n++ {
		if more, err := s.elem(n); err != nil || !more {
			return err
		}
		r, err := sliceRecord(s)
		if err != nil {
			return err
		}
		p.Records = append(p.Records, r)
	}
}

// sliceRecord reads one element of result: its bytes, hash and id.
func sliceRecord(s *scanner) (Raw, error) {
	k := s.peek()
	start := s.i
	if k != '{' {
		if err := s.skipValue(); err != nil {
			return Raw{}, err
		}
		raw := s.b[start:s.i:s.i]
		return Raw{JSON: raw, Hash: xxhash.Sum64(raw),
			Err: &DecodeError{Reason: ReasonRecordJSON, Err: fmt.Errorf("record is a JSON %s, not an object", kindName(k))}}, nil
	}
	if err := s.open(); err != nil {
		return Raw{}, err
	}
	var (
		id    int64
		idErr error
	)
	for n := 0; ; n++ {
		name, more, err := s.key(n)
		if err != nil {
			return Raw{}, err
		}
		if !more {
			break
		}
		if string(name) != "id" {
			if err := s.skipValue(); err != nil {
				return Raw{}, err
			}
			continue
		}
		v, null, err := s.readInt(64)
		switch {
		case errors.As(err, new(*typeError)):
			idErr = err
		case err != nil:
			return Raw{}, err
		case !null:
			id, idErr = v, nil
		}
	}
	r := Raw{JSON: s.b[start:s.i:s.i]}
	r.Hash = xxhash.Sum64(r.JSON)
	switch {
	case idErr != nil:
		r.Err = &DecodeError{Reason: ReasonRecordJSON, Err: fmt.Errorf("reading id: %w", idErr)}
	case id == 0:
		r.Err = &DecodeError{Reason: ReasonNoID, Err: errors.New("record has no id")}
	default:
		r.ID = id
	}
	return r, nil
}
