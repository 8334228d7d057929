package source

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/callstream/callstream/internal/jsonscan"
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
	s := jsonscan.New(raw)
	s.WS()
	if !s.Eat('{') {
		return 0, errors.New("peeking id: record is not a JSON object")
	}
	var id int64
	s.WS()
	if s.Eat('}') {
		return 0, fmt.Errorf("peeking id: %w", ErrNoID)
	}
	for {
		key, err := s.Key()
		if err != nil {
			return 0, fmt.Errorf("peeking id: %w", err)
		}
		s.WS()
		if !s.Eat(':') {
			return 0, fmt.Errorf("peeking id: no colon after key at offset %d", s.Offset())
		}
		s.WS()
		if bytes.EqualFold(key, []byte("id")) {
			if id, err = s.LooseInt(id); err != nil {
				return 0, fmt.Errorf("peeking id: %w", err)
			}
		} else if err := s.SkipValue(); err != nil {
			return 0, fmt.Errorf("peeking id: %w", err)
		}
		s.WS()
		if s.Eat(',') {
			s.WS()
			continue
		}
		if s.Eat('}') {
			break
		}
		return 0, fmt.Errorf("peeking id: unexpected byte at offset %d", s.Offset())
	}
	if id == 0 {
		return 0, fmt.Errorf("peeking id: %w", ErrNoID)
	}
	return id, nil
}
