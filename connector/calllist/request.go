package calllist

import (
	"encoding/json"
	"time"
)

// Request is the JSON body of a getCallList request, in the field order of
// the vendor's example. Its window is [StartTime, EndTime] on
// gmtCreateTime, both ends inclusive, in CST.
type Request struct {
	StartTime string `json:"startTime"`
	EndTime   string `json:"endTime"`
	Type      string `json:"type"`
	PageNo    int    `json:"pageNo"`
	PageSize  int    `json:"pageSize"`
}

// NewRequest returns the request of page pageNo of the window [start, end].
func NewRequest(start, end time.Time, typ string, pageNo, pageSize int) Request {
	return Request{StartTime: FormatTime(start), EndTime: FormatTime(end), Type: typ, PageNo: pageNo, PageSize: pageSize}
}

// Body returns the request's JSON body.
func (r Request) Body() []byte {
	b, err := json.Marshal(r)
	if err != nil {
		panic("calllist: marshalling a request: " + err.Error()) // strings and ints always marshal
	}
	return b
}
