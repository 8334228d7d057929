package source

import (
	"encoding/json"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeFast decodes a record in one pass without reflection, for the
// shape the vendor sends: known keys spelled exactly, strings, integers
// and nulls. It reports false for anything else (a key in another case, an
// unknown key, a number with a fraction or exponent, a non-null value in
// an always-null field, invalid UTF-8, malformed JSON), and the caller
// then decodes with encoding/json, whose result it matches whenever it
// reports true. The page the record came from was decoded by encoding/json
// already, so in practice the fallback is only taken for odd input.
func decodeFast(raw []byte) (Record, bool) {
	var r Record
	s := scanner{b: raw}
	s.ws()
	if !s.eat('{') {
		return r, false
	}
	s.ws()
	if s.eat('}') {
		return r, s.end()
	}
	for {
		key, ok := s.plainString()
		if !ok {
			return r, false
		}
		s.ws()
		if !s.eat(':') {
			return r, false
		}
		s.ws()
		if !s.field(&r, key) {
			return r, false
		}
		s.ws()
		if s.eat(',') {
			s.ws()
			continue
		}
		if s.eat('}') {
			return r, s.end()
		}
		return r, false
	}
}

// end reports whether only white space follows.
func (s *scanner) end() bool {
	s.ws()
	return s.i == len(s.b)
}

// field decodes the value of key into r.
func (s *scanner) field(r *Record, key []byte) bool {
	switch string(key) {
	case "id":
		return s.int64Into(&r.ID, 64)
	case "preCost":
		return s.int64Into(&r.PreCost, 64)
	case "cost":
		return s.int64Into(&r.Cost, 64)
	case "salesId":
		return s.int64Into(&r.SalesID, 64)
	case "status":
		v := int64(r.Status)
		ok := s.int64Into(&v, 32)
		r.Status = int32(v)
		return ok
	case "message":
		if s.null() {
			r.Message = nil
			return true
		}
		v, ok := s.stringValue()
		r.Message = &v
		return ok
	}
	if p := stringField(r, key); p != nil {
		if s.null() {
			return true
		}
		v, ok := s.stringValue()
		*p = v
		return ok
	}
	if p := rawField(r, key); p != nil && s.null() {
		*p = json.RawMessage("null")
		return true
	}
	return false
}

func stringField(r *Record, key []byte) *string {
	switch string(key) {
	case "taskId":
		return &r.TaskID
	case "corpId":
		return &r.CorpID
	case "type":
		return &r.Type
	case "msgId":
		return &r.MsgID
	case "statusStr":
		return &r.StatusStr
	case "method":
		return &r.Method
	case "salesName":
		return &r.SalesName
	case "gmtCreateTime":
		return &r.GmtCreateTime
	case "msgTime":
		return &r.MsgTime
	case "departmentName":
		return &r.DepartmentName
	case "sendName":
		return &r.SendName
	case "receiveName":
		return &r.ReceiveName
	case "callType":
		return &r.CallType
	case "content":
		return &r.Content
	case "url":
		return &r.URL
	}
	return nil
}

func rawField(r *Record, key []byte) *json.RawMessage {
	switch string(key) {
	case "createTime":
		return &r.CreateTime
	case "sender":
		return &r.Sender
	case "senderType":
		return &r.SenderType
	case "recipient":
		return &r.Recipient
	case "recipientType":
		return &r.RecipientType
	case "sendAvatar":
		return &r.SendAvatar
	case "sendThumbAvatar":
		return &r.SendThumbAvatar
	case "sendIsWx":
		return &r.SendIsWx
	case "receiveAvatar":
		return &r.ReceiveAvatar
	case "receiveThumbAvatar":
		return &r.ReceiveThumbAvatar
	case "receiveIsWx":
		return &r.ReceiveIsWx
	case "userId":
		return &r.UserID
	case "chatId":
		return &r.ChatID
	}
	return nil
}

func (s *scanner) null() bool {
	if len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "null" {
		s.i += 4
		return true
	}
	return false
}

// int64Into reads null (leaving *dst) or a JSON integer that fits bits
// (0: an int).
func (s *scanner) int64Into(dst *int64, bits int) bool {
	if s.null() {
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

// plainString reads a string without escapes or control characters and
// returns its bytes (a key).
func (s *scanner) plainString() ([]byte, bool) {
	if !s.eat('"') {
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

// stringValue reads a JSON string, unescaping it. Invalid UTF-8 reports
// false, since encoding/json would replace it.
func (s *scanner) stringValue() (string, bool) {
	if !s.eat('"') {
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
func (s *scanner) escapedString() (string, bool) {
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

func (s *scanner) hex4() (rune, bool) {
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
