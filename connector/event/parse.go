package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/callstream/callstream/connector/source"
)

// Reasons a record goes to the dead-letter topic: the bounded values of
// DeadLetter.Reason and of the callstream_dlq_records_total reason label.
const (
	ReasonContentJSON    = "content_json"    // content is neither empty, a transcript nor a task status
	ReasonMessageJSON    = "message_json"    // message is not a task status
	ReasonDepartmentJSON = "department_json" // departmentName is not a list of departments
	ReasonTimeFormat     = "time_format"     // gmtCreateTime or msgTime is not yyyy-MM-dd HH:mm:ss
	ReasonRecordJSON     = "record_json"     // the record itself is not valid JSON or lacks an id
	ReasonEncode         = "encode"          // the event could not be Avro encoded
)

// Reasons returns every dead-letter reason, for example to initialise a
// metric's label values.
func Reasons() []string {
	return []string{ReasonContentJSON, ReasonMessageJSON, ReasonDepartmentJSON,
		ReasonTimeFormat, ReasonRecordJSON, ReasonEncode}
}

// ParseError is a record that FromRecord cannot turn into a Call. The
// connector sends such a record to the dead-letter topic with Reason.
type ParseError struct {
	Reason string // one of the Reason constants
	Err    error
}

// Error returns the underlying error's text.
func (e *ParseError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }

// errNotContent is the content_json error for valid JSON of another shape.
var errNotContent = errors.New("neither a transcript (Sentences) nor a task status (TaskId, StatusCode)")

// FromRecord parses a vendor record into a Call: the inner JSON of content,
// message and departmentName into structure, and the CST times into UTC
// instants. Empty content (a call still in progress) and a null or empty
// message become nil, as does an empty departmentName. Any failure is a
// *ParseError.
func FromRecord(r *source.Record) (*Call, error) {
	created, err := parseTime("gmtCreateTime", r.GmtCreateTime)
	if err != nil {
		return nil, err
	}
	msgTime, err := parseTime("msgTime", r.MsgTime)
	if err != nil {
		return nil, err
	}
	deps, err := parseDepartments(r.DepartmentName)
	if err != nil {
		return nil, &ParseError{Reason: ReasonDepartmentJSON, Err: err}
	}
	var msg *TaskStatus
	if r.Message != nil && *r.Message != "" {
		if msg, err = parseTaskStatus(*r.Message); err != nil {
			return nil, &ParseError{Reason: ReasonMessageJSON, Err: fmt.Errorf("parsing message: %w", err)}
		}
	}
	content, err := parseContent(r.Content)
	if err != nil {
		return nil, &ParseError{Reason: ReasonContentJSON, Err: fmt.Errorf("parsing content: %w", err)}
	}
	return &Call{
		ID: r.ID, TaskID: r.TaskID, CorpID: r.CorpID, Type: r.Type, MsgID: r.MsgID,
		PreCost: r.PreCost, Cost: r.Cost, Status: r.Status, StatusStr: r.StatusStr,
		Method: r.Method, SalesID: r.SalesID, SalesName: r.SalesName,
		GmtCreateTime: created, MsgTime: msgTime, Departments: deps,
		SendName: r.SendName, ReceiveName: r.ReceiveName, CallType: r.CallType, URL: r.URL,
		Message: msg, Content: content, Extra: extraFields(r),
	}, nil
}

func parseTime(field, s string) (time.Time, error) {
	t, err := source.ParseTime(s)
	if err != nil {
		return time.Time{}, &ParseError{Reason: ReasonTimeFormat, Err: fmt.Errorf("parsing %s: %w", field, err)}
	}
	return t.UTC(), nil
}

// departmentJSON is one element of the vendor's departmentName.
type departmentJSON struct {
	ID    int64  `json:"id"`
	Level string `json:"level"`
	Name  string `json:"name"`
}

func parseDepartments(s string) ([]Department, error) {
	if s == "" {
		return nil, nil
	}
	raw, ok := decodeDepartmentsFast(s)
	if !ok {
		raw = nil
		if err := json.Unmarshal([]byte(s), &raw); err != nil {
			return nil, fmt.Errorf("parsing departmentName: %w", err)
		}
	}
	if len(raw) == 0 {
		return nil, nil
	}
	deps := make([]Department, len(raw))
	for i, d := range raw {
		path, err := parseLevel(d.Level)
		if err != nil {
			return nil, fmt.Errorf("parsing departmentName: department %d: %w", d.ID, err)
		}
		deps[i] = Department{ID: d.ID, Level: d.Level, Path: path, Name: d.Name}
	}
	return deps, nil
}

// parseLevel parses a dotted path of ids such as "0.93186.105610.": the
// vendor ends it with a dot, so empty segments are skipped.
func parseLevel(level string) ([]int64, error) {
	var path []int64
	for seg := range strings.SplitSeq(level, ".") {
		if seg == "" {
			continue
		}
		id, err := strconv.ParseInt(seg, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("parsing level %q: %w", level, err)
		}
		path = append(path, id)
	}
	return path, nil
}

// contentJSON is the union of the shapes the vendor puts in content and
// message. Pointers tell a missing key from a zero value. Fields the engine
// adds beyond these are ignored.
type contentJSON struct {
	Sentences   *[]sentenceJSON `json:"Sentences"`
	TaskID      *string         `json:"TaskId"`
	StatusText  string          `json:"StatusText"`
	RequestTime int64           `json:"RequestTime"`
	SolveTime   int64           `json:"SolveTime"`
	StatusCode  *int64          `json:"StatusCode"`
}

// sentenceJSON is one sentence of a transcript.
type sentenceJSON struct {
	BeginTime int64  `json:"BeginTime"`
	EndTime   int64  `json:"EndTime"`
	Text      string `json:"Text"`
	ChannelID int32  `json:"ChannelId"`
}

func decodeContent(s string) (*contentJSON, error) {
	if c, ok := decodeContentFast(s); ok {
		return c, nil
	}
	var c contentJSON
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *contentJSON) isTaskStatus() bool { return c.TaskID != nil || c.StatusCode != nil }

func (c *contentJSON) taskStatus() *TaskStatus {
	ts := &TaskStatus{
		StatusText:  c.StatusText,
		RequestTime: time.UnixMilli(c.RequestTime).UTC(),
		SolveTime:   time.UnixMilli(c.SolveTime).UTC(),
	}
	if c.TaskID != nil {
		ts.TaskID = *c.TaskID
	}
	if c.StatusCode != nil {
		ts.StatusCode = *c.StatusCode
	}
	return ts
}

func parseTaskStatus(s string) (*TaskStatus, error) {
	c, err := decodeContent(s)
	if err != nil {
		return nil, err
	}
	if !c.isTaskStatus() {
		return nil, errors.New("not a task status (no TaskId or StatusCode)")
	}
	return c.taskStatus(), nil
}

func parseContent(s string) (any, error) {
	if s == "" {
		return nil, nil
	}
	c, err := decodeContent(s)
	if err != nil {
		return nil, err
	}
	switch {
	case c.Sentences != nil:
		var t Transcript
		if len(*c.Sentences) > 0 {
			t.Sentences = make([]Sentence, len(*c.Sentences))
		}
		for i, s := range *c.Sentences {
			t.Sentences[i] = Sentence{BeginTimeMs: s.BeginTime, EndTimeMs: s.EndTime, Text: s.Text, ChannelID: s.ChannelID}
		}
		return &t, nil
	case c.isTaskStatus():
		return c.taskStatus(), nil
	default:
		return nil, errNotContent
	}
}

// extraFields returns the raw JSON of each always-null vendor field that is
// not null, or nil when all are null.
func extraFields(r *source.Record) map[string]string {
	fields := [...]struct {
		name string
		raw  json.RawMessage
	}{
		{"createTime", r.CreateTime}, {"sender", r.Sender}, {"senderType", r.SenderType},
		{"recipient", r.Recipient}, {"recipientType", r.RecipientType},
		{"sendAvatar", r.SendAvatar}, {"sendThumbAvatar", r.SendThumbAvatar}, {"sendIsWx", r.SendIsWx},
		{"receiveAvatar", r.ReceiveAvatar}, {"receiveThumbAvatar", r.ReceiveThumbAvatar},
		{"receiveIsWx", r.ReceiveIsWx}, {"userId", r.UserID}, {"chatId", r.ChatID},
	}
	var extra map[string]string
	for _, f := range fields {
		if len(f.raw) == 0 || string(f.raw) == "null" {
			continue
		}
		if extra == nil {
			extra = make(map[string]string)
		}
		extra[f.name] = string(f.raw)
	}
	return extra
}
