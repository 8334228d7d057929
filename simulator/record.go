package simulator

import "encoding/json"

// Record is one call as the vendor's getCallList lists it: the 34 fields of
// the vendor's sample response (../shared/upstream), written by
// appendRecord in the vendor's order. The JSON held in strings (Content,
// Message, DepartmentName) is text here, as on the wire.
//
// The json tags are the vendor's keys, so that a test or a check can read
// the simulator's own output back with encoding/json.
type Record struct {
	ID             int64   `json:"id"`
	TaskID         string  `json:"taskId"`
	CorpID         string  `json:"corpId"`
	Type           string  `json:"type"`
	MsgID          string  `json:"msgId"`
	PreCost        int64   `json:"preCost"`
	Cost           int64   `json:"cost"`
	Status         int32   `json:"status"`
	StatusStr      string  `json:"statusStr"`
	Message        *string `json:"message"`
	Method         string  `json:"method"`
	SalesID        int64   `json:"salesId"`
	SalesName      string  `json:"salesName"`
	GmtCreateTime  string  `json:"gmtCreateTime"`
	MsgTime        string  `json:"msgTime"`
	DepartmentName string  `json:"departmentName"`
	SendName       string  `json:"sendName"`
	ReceiveName    string  `json:"receiveName"`
	CallType       string  `json:"callType"`
	Content        string  `json:"content"`
	URL            string  `json:"url"`

	// Fields the vendor documents but always sends as null; empty is
	// written as null, anything else as the raw JSON it holds.
	CreateTime         json.RawMessage `json:"createTime"`
	Sender             json.RawMessage `json:"sender"`
	SenderType         json.RawMessage `json:"senderType"`
	Recipient          json.RawMessage `json:"recipient"`
	RecipientType      json.RawMessage `json:"recipientType"`
	SendAvatar         json.RawMessage `json:"sendAvatar"`
	SendThumbAvatar    json.RawMessage `json:"sendThumbAvatar"`
	SendIsWx           json.RawMessage `json:"sendIsWx"`
	ReceiveAvatar      json.RawMessage `json:"receiveAvatar"`
	ReceiveThumbAvatar json.RawMessage `json:"receiveThumbAvatar"`
	ReceiveIsWx        json.RawMessage `json:"receiveIsWx"`
	UserID             json.RawMessage `json:"userId"`
	ChatID             json.RawMessage `json:"chatId"`
}

// AppendJSON appends r as the vendor writes a record: the simulator's own
// encoder, which the client's decoder is tested against.
func (r *Record) AppendJSON(b []byte) []byte { return appendRecord(b, r) }
