package calllist

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"github.com/go-json-experiment/json/jsontext"
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
	d := newDecoder(body)
	defer d.release()
	var (
		p         Page
		code      *int
		message   string
		sawData   bool
		dataIsNil bool
	)
	err := readObject(d, func(name []byte) error {
		switch string(name) {
		case "code":
			v, null, err := readInt(d, 0)
			if err == nil && !null {
				c := int(v)
				code = &c
			} else if null {
				code = nil
			}
			return err
		case "message":
			_, err := readString(d, &message)
			return err
		case "data":
			sawData = true
			if d.PeekKind() == 'n' {
				dataIsNil = true
				return d.SkipValue()
			}
			dataIsNil = false
			return readObject(d, func(name []byte) error { return p.field(d, body, name) })
		}
		return d.SkipValue()
	})
	if err == nil {
		err = endOfInput(d)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, jsonError(err))
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

// field reads one key of data.
func (p *Page) field(d *tokenizer, body []byte, name []byte) error {
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
		return p.readResult(d, body)
	default:
		return d.SkipValue()
	}
	v := int64(*dst)
	_, err := intInto(d, 0, &v)
	*dst = int(v)
	return err
}

// readResult slices each element of the result array out of body.
func (p *Page) readResult(d *tokenizer, body []byte) error {
	p.Records = p.Records[:0]
	switch d.PeekKind() {
	case 'n':
		return d.SkipValue()
	case '[':
	default:
		return errors.New("result is not an array")
	}
	if _, err := d.ReadToken(); err != nil {
		return err
	}
	for d.PeekKind() != ']' {
		r, err := sliceRecord(d, body)
		if err != nil {
			return err
		}
		p.Records = append(p.Records, r)
	}
	_, err := d.ReadToken()
	return err
}

// sliceRecord reads one element of result: its bytes, hash and id.
func sliceRecord(d *tokenizer, body []byte) (Raw, error) {
	if d.PeekKind() != '{' {
		v, err := d.ReadValue()
		if err != nil {
			return Raw{}, err
		}
		end := int(d.InputOffset())
		raw := body[end-len(v) : end : end]
		return Raw{JSON: raw, Hash: xxhash.Sum64(raw),
			Err: &DecodeError{Reason: ReasonRecordJSON, Err: fmt.Errorf("record is a JSON %s, not an object", kindName(v.Kind()))}}, nil
	}
	if _, err := d.ReadToken(); err != nil {
		return Raw{}, err
	}
	start := int(d.InputOffset()) - 1
	var (
		id    int64
		idErr error
	)
	for d.PeekKind() != '}' {
		name, err := d.readName()
		if err != nil {
			return Raw{}, err
		}
		if string(name) != "id" {
			if err := d.SkipValue(); err != nil {
				return Raw{}, err
			}
			continue
		}
		v, null, err := readInt(d, 64)
		switch {
		case errors.As(err, new(*typeError)):
			idErr = err
		case err != nil:
			return Raw{}, err
		case !null:
			id, idErr = v, nil
		}
	}
	if _, err := d.ReadToken(); err != nil {
		return Raw{}, err
	}
	end := int(d.InputOffset())
	r := Raw{JSON: body[start:end:end]}
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

// tokenizer is a jsontext.Decoder reading a byte slice in place (a
// bytes.Buffer is read without a copy), kept in a pool: a decoder is large,
// and a record needs up to four.
type tokenizer struct {
	jsontext.Decoder
	in   bytes.Buffer
	name []byte // scratch for an escaped key
	// src is the input as a string (newStringDecoder): strings read
	// without escapes are sliced out of it, not copied one by one.
	src string
	unq []byte // scratch for an escaped string
	// interned are strings read by readInterned; the cache lives as long
	// as the pooled tokenizer.
	interned map[string]string
}

var tokenizers = sync.Pool{New: func() any { return new(tokenizer) }}

// newDecoder returns a pooled tokenizer reading b; release it when done.
func newDecoder(b []byte) *tokenizer {
	t := tokenizers.Get().(*tokenizer)
	t.in = *bytes.NewBuffer(b)
	t.Reset(&t.in, jsonOptions...)
	return t
}

// newStringDecoder returns a pooled tokenizer reading s, whose strings
// share s's memory where they can; release it when done. jsontext reads a
// bytes.Buffer's bytes in place and never writes to them, so s stays
// immutable.
func newStringDecoder(s string) *tokenizer {
	t := newDecoder(unsafe.Slice(unsafe.StringData(s), len(s)))
	t.src = s
	return t
}

// release returns t to the pool. Nothing read from it may be used after.
func (t *tokenizer) release() {
	t.in = bytes.Buffer{}
	t.src = ""
	t.Reset(&t.in)
	tokenizers.Put(t)
}

// endOfInput checks that nothing but whitespace follows the value read.
func endOfInput(d *tokenizer) error {
	if _, err := d.ReadToken(); err != io.EOF {
		if err == nil {
			return errors.New("data after the top-level value")
		}
		return err
	}
	return nil
}

// readObject reads an object, calling field for each key with the decoder
// before the key's value; field must read or skip the value. name is valid
// until field returns.
func readObject(d *tokenizer, field func(name []byte) error) error {
	if k := d.PeekKind(); k != '{' {
		if k == 0 {
			_, err := d.ReadToken() // the syntax error
			return err
		}
		return &typeError{want: "an object", got: k}
	}
	if _, err := d.ReadToken(); err != nil {
		return err
	}
	for d.PeekKind() != '}' {
		name, err := d.readName()
		if err != nil {
			return err
		}
		if err := field(name); err != nil {
			return err
		}
	}
	_, err := d.ReadToken()
	return err
}

// readName reads an object's key without allocating: a slice of the input,
// or of t.name when the key has escapes.
func (t *tokenizer) readName() ([]byte, error) {
	v, err := t.ReadValue()
	if err != nil {
		return nil, err
	}
	if bytes.IndexByte(v, '\\') < 0 {
		return v[1 : len(v)-1], nil
	}
	t.name, err = jsontext.AppendUnquote(t.name[:0], v)
	return t.name, err
}

// typeError is valid JSON of another kind than the field needs.
type typeError struct {
	want string
	got  jsontext.Kind
}

func (e *typeError) Error() string {
	return fmt.Sprintf("want %s, got a JSON %s", e.want, kindName(e.got))
}

// readInt reads an integer of bits bits (0: int's size) or null.
func readInt(d *tokenizer, bits int) (v int64, null bool, err error) {
	switch k := d.PeekKind(); k {
	case 'n':
		return 0, true, d.SkipValue()
	case '0':
	case 0:
		_, err := d.ReadToken()
		return 0, false, err
	default:
		if err := d.SkipValue(); err != nil {
			return 0, false, err
		}
		return 0, false, &typeError{want: "an integer", got: k}
	}
	tok, err := d.ReadToken()
	if err != nil {
		return 0, false, err
	}
	v, err = tok.Int()
	if err != nil {
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

// intInto reads an integer of bits bits into dst, or null, which leaves dst
// as it was (as encoding/json does).
func intInto(d *tokenizer, bits int, dst *int64) (null bool, err error) {
	v, null, err := readInt(d, bits)
	if err == nil && !null {
		*dst = v
	}
	return null, err
}

// readString reads a string into dst, or null, which leaves dst as it was.
func readString(d *tokenizer, dst *string) (null bool, err error) {
	return readStringAs(d, dst, false)
}

// readInterned reads a string as readString does, for a field whose values
// repeat across records (a corp id, a method, a sales name): it comes from
// the tokenizer's cache when it was read before.
func readInterned(d *tokenizer, dst *string) (null bool, err error) {
	return readStringAs(d, dst, true)
}

func readStringAs(d *tokenizer, dst *string, intern bool) (null bool, err error) {
	switch k := d.PeekKind(); k {
	case 'n':
		return true, d.SkipValue()
	case '"':
	case 0:
		_, err := d.ReadToken()
		return false, err
	default:
		if err := d.SkipValue(); err != nil {
			return false, err
		}
		return false, &typeError{want: "a string", got: k}
	}
	v, err := d.ReadValue()
	if err != nil {
		return false, err
	}
	var b []byte
	if bytes.IndexByte(v, '\\') < 0 && utf8.Valid(v) {
		if d.src != "" && !intern {
			*dst = d.slice(v)[1 : len(v)-1]
			return false, nil
		}
		b = v[1 : len(v)-1]
	} else {
		// Invalid UTF-8 is replaced with U+FFFD, as the tokenizer's own
		// strings have it under AllowInvalidUTF8; the error says only that.
		d.unq, _ = jsontext.AppendUnquote(d.unq[:0], v)
		b = d.unq
	}
	if intern {
		*dst = d.intern(b)
	} else {
		*dst = string(b)
	}
	return false, nil
}

// The tokenizer's cache of repeating strings: at most maxInterned of at
// most maxInternLen bytes each, emptied when full.
const (
	maxInterned  = 1024
	maxInternLen = 64
)

// intern returns b as a string, from the cache when it holds it.
func (d *tokenizer) intern(b []byte) string {
	if s, ok := d.interned[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(b) > maxInternLen {
		return s
	}
	if len(d.interned) >= maxInterned {
		clear(d.interned)
	}
	if d.interned == nil {
		d.interned = make(map[string]string)
	}
	d.interned[s] = s
	return s
}

// slice returns v, a value just read, as a string: a part of src when the
// decoder reads a string, else a copy.
func (d *tokenizer) slice(v jsontext.Value) string {
	if d.src == "" {
		return string(v)
	}
	end := int(d.InputOffset())
	return d.src[end-len(v) : end]
}

// jsonError drops the tokenizer's package prefix from a syntax error.
func jsonError(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
		return errors.New("truncated JSON")
	}
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d: %w", se.ByteOffset, se.Err)
	}
	return err
}

func kindName(k jsontext.Kind) string {
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
