package simulator

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// appendRecord appends r as the vendor writes a record: all 34 fields in the
// vendor's order, the always-null ones as null (or their raw value if set).
func appendRecord(b []byte, r *Record) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, r.ID, 10)
	b = appendField(b, "taskId", r.TaskID)
	b = appendField(b, "corpId", r.CorpID)
	b = appendField(b, "type", r.Type)
	b = appendField(b, "msgId", r.MsgID)
	b = appendRaw(b, "createTime", r.CreateTime)
	b = appendInt(b, "preCost", r.PreCost)
	b = appendInt(b, "cost", r.Cost)
	b = appendInt(b, "status", int64(r.Status))
	b = append(b, `,"message":`...)
	if r.Message == nil {
		b = append(b, "null"...)
	} else {
		b = appendString(b, *r.Message)
	}
	b = appendRaw(b, "sender", r.Sender)
	b = appendRaw(b, "senderType", r.SenderType)
	b = appendRaw(b, "recipient", r.Recipient)
	b = appendRaw(b, "recipientType", r.RecipientType)
	b = appendField(b, "method", r.Method)
	b = appendInt(b, "salesId", r.SalesID)
	b = appendField(b, "gmtCreateTime", r.GmtCreateTime)
	b = appendField(b, "departmentName", r.DepartmentName)
	b = appendField(b, "sendName", r.SendName)
	b = appendRaw(b, "sendAvatar", r.SendAvatar)
	b = appendRaw(b, "sendThumbAvatar", r.SendThumbAvatar)
	b = appendRaw(b, "sendIsWx", r.SendIsWx)
	b = appendField(b, "receiveName", r.ReceiveName)
	b = appendRaw(b, "receiveAvatar", r.ReceiveAvatar)
	b = appendRaw(b, "receiveThumbAvatar", r.ReceiveThumbAvatar)
	b = appendRaw(b, "receiveIsWx", r.ReceiveIsWx)
	b = appendField(b, "msgTime", r.MsgTime)
	b = appendField(b, "salesName", r.SalesName)
	b = appendField(b, "callType", r.CallType)
	b = appendField(b, "content", r.Content)
	b = appendField(b, "url", r.URL)
	b = appendRaw(b, "userId", r.UserID)
	b = appendRaw(b, "chatId", r.ChatID)
	b = appendField(b, "statusStr", r.StatusStr)
	return append(b, '}')
}

func appendField(b []byte, key, v string) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

func appendInt(b []byte, key string, v int64) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, v, 10)
}

func appendRaw(b []byte, key string, v []byte) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	if len(v) == 0 {
		return append(b, "null"...)
	}
	return append(b, v...)
}

// appendString appends s as a JSON string. Non-ASCII text stays as UTF-8,
// as the vendor sends it; invalid UTF-8 becomes U+FFFD. Runs of bytes that
// need no escape are copied whole: this is the simulator's hottest loop.
func appendString(b []byte, s string) []byte {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	run := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[run:i]...)
		run = i + 1
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
	}
	b = append(b, s[run:]...)
	return append(b, '"')
}

// jsonString returns s as a JSON string.
func jsonString(s string) string { return string(appendString(nil, s)) }
