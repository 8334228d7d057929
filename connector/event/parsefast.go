package event

import (
	"bytes"

	"github.com/callstream/callstream/internal/jsonscan"
)

// The fast decoders below read the inner JSON of content, message and
// departmentName in one pass without reflection. Each reports false for
// anything unusual (a known key in another case, a duplicate list, a null
// element, invalid JSON or UTF-8) and the caller then decodes with
// encoding/json, whose result they match whenever they report true.

// contentKeys and departmentKeys are the keys encoding/json would match,
// without regard to case, to the fields of contentJSON and departmentJSON.
var (
	contentKeys    = []string{"Sentences", "TaskId", "StatusText", "RequestTime", "SolveTime", "StatusCode"}
	sentenceKeys   = []string{"BeginTime", "EndTime", "Text", "ChannelId"}
	departmentKeys = []string{"id", "level", "name"}
)

// otherKey reports whether key is neither one of keys spelled otherwise
// nor anything but ASCII: such a key is ignored by encoding/json too.
func otherKey(key []byte, keys []string) bool {
	for _, c := range key {
		if c >= 0x80 {
			return false
		}
	}
	for _, k := range keys {
		if bytes.EqualFold(key, []byte(k)) {
			return false
		}
	}
	return true
}

func decodeContentFast(text string) (*contentJSON, bool) {
	var c contentJSON
	s := jsonscan.New([]byte(text))
	seenSentences := false
	ok := s.Object(func(key []byte) bool {
		switch string(key) {
		case "Sentences":
			if seenSentences {
				return false
			}
			seenSentences = true
			return sentencesFast(s, &c)
		case "TaskId":
			if s.Null() {
				c.TaskID = nil
				return true
			}
			v, ok := s.StringValue()
			c.TaskID = &v
			return ok
		case "StatusText":
			return s.Null() || stringInto(s, &c.StatusText)
		case "RequestTime":
			return s.Int(&c.RequestTime, 64)
		case "SolveTime":
			return s.Int(&c.SolveTime, 64)
		case "StatusCode":
			if s.Null() {
				c.StatusCode = nil
				return true
			}
			var v int64
			ok := s.Int(&v, 64)
			c.StatusCode = &v
			return ok
		}
		return otherKey(key, contentKeys) && s.Valid()
	})
	return &c, ok && s.End()
}

func stringInto(s *jsonscan.Scanner, dst *string) bool {
	v, ok := s.StringValue()
	*dst = v
	return ok
}

// sentencesFast reads the Sentences array.
func sentencesFast(s *jsonscan.Scanner, c *contentJSON) bool {
	if s.Null() {
		c.Sentences = nil
		return true
	}
	list := make([]sentenceJSON, 0, 8)
	ok := array(s, func() bool {
		var e sentenceJSON
		ok := s.Object(func(key []byte) bool {
			switch string(key) {
			case "BeginTime":
				return s.Int(&e.BeginTime, 64)
			case "EndTime":
				return s.Int(&e.EndTime, 64)
			case "Text":
				return s.Null() || stringInto(s, &e.Text)
			case "ChannelId":
				v := int64(e.ChannelID)
				ok := s.Int(&v, 32)
				e.ChannelID = int32(v)
				return ok
			}
			return otherKey(key, sentenceKeys) && s.Valid()
		})
		list = append(list, e)
		return ok
	})
	c.Sentences = &list
	return ok
}

// array reads an array whose elements elem reads; a null element reports
// false.
func array(s *jsonscan.Scanner, elem func() bool) bool {
	if !s.Eat('[') {
		return false
	}
	s.WS()
	if s.Eat(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		s.WS()
		if s.Eat(',') {
			s.WS()
			continue
		}
		return s.Eat(']')
	}
}

func decodeDepartmentsFast(text string) ([]departmentJSON, bool) {
	s := jsonscan.New([]byte(text))
	s.WS()
	list := make([]departmentJSON, 0, 2)
	ok := array(s, func() bool {
		var d departmentJSON
		ok := s.Object(func(key []byte) bool {
			switch string(key) {
			case "id":
				return s.Int(&d.ID, 64)
			case "level":
				return s.Null() || stringInto(s, &d.Level)
			case "name":
				return s.Null() || stringInto(s, &d.Name)
			}
			return otherKey(key, departmentKeys) && s.Valid()
		})
		list = append(list, d)
		return ok
	})
	return list, ok && s.End()
}
