package source

import "encoding/json"

// Record is one call or voice message as getCallList returns it. The JSON
// held in strings (Content, Message, DepartmentName) is left as text here;
// the event package parses it, so that a record whose inner JSON is broken
// still decodes and can reach the dead-letter topic with its raw bytes.
//
// ID and SalesID are decoded as int64, never through float64: values such as
// 661181201146016 are close enough to 2^53 that a float would round them.
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

	// Fields that the vendor documents but always sends as null. They are
	// kept raw so that a value appearing one day is carried, not lost.
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
