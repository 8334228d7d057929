package source

import (
	"encoding/json"

	"github.com/callstream/callstream/internal/jsonscan"
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
	s := jsonscan.New(raw)
	s.WS()
	if !s.Eat('{') {
		return r, false
	}
	s.WS()
	if s.Eat('}') {
		return r, s.End()
	}
	for {
		key, ok := s.PlainString()
		if !ok {
			return r, false
		}
		s.WS()
		if !s.Eat(':') {
			return r, false
		}
		s.WS()
		if !field(s, &r, key) {
			return r, false
		}
		s.WS()
		if s.Eat(',') {
			s.WS()
			continue
		}
		if s.Eat('}') {
			return r, s.End()
		}
		return r, false
	}
}

// field decodes the value of key into r.
func field(s *jsonscan.Scanner, r *Record, key []byte) bool {
	switch string(key) {
	case "id":
		return s.Int(&r.ID, 64)
	case "preCost":
		return s.Int(&r.PreCost, 64)
	case "cost":
		return s.Int(&r.Cost, 64)
	case "salesId":
		return s.Int(&r.SalesID, 64)
	case "status":
		v := int64(r.Status)
		ok := s.Int(&v, 32)
		r.Status = int32(v)
		return ok
	case "message":
		if s.Null() {
			r.Message = nil
			return true
		}
		v, ok := s.StringValue()
		r.Message = &v
		return ok
	}
	if p := stringField(r, key); p != nil {
		if s.Null() {
			return true
		}
		v, ok := s.StringValue()
		*p = v
		return ok
	}
	if p := rawField(r, key); p != nil && s.Null() {
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
