package calllist

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/callstream/callstream/connector/event"
)

// Reasons a record cannot be read: the bounded values of the dead letter's
// reason and of the callstream_dlq_records_total reason label.
const (
	ReasonRecordJSON      = "record_json"        // the record is not an object, or a field has the wrong JSON kind
	ReasonNoID            = "no_id"              // id is missing, null or 0: the record cannot be keyed
	ReasonNoStatus        = "no_status"          // status is missing or null
	ReasonNoGmtCreateTime = "no_gmt_create_time" // gmtCreateTime is missing or null
	ReasonTimeFormat      = "time_format"        // gmtCreateTime or msgTime is not yyyy-MM-dd HH:mm:ss
	ReasonContentJSON     = "content_json"       // content is neither empty, a transcript nor a task status
	ReasonMessageJSON     = "message_json"       // message is not a task status
	ReasonDepartmentJSON  = "department_json"    // departmentName is not a list of departments
)

// Reasons returns every reason of a DecodeError, for example to initialise
// a metric's label values.
func Reasons() []string {
	return []string{ReasonRecordJSON, ReasonNoID, ReasonNoStatus, ReasonNoGmtCreateTime,
		ReasonTimeFormat, ReasonContentJSON, ReasonMessageJSON, ReasonDepartmentJSON}
}

// DecodeError is a record that cannot be read. Its text quotes no value of
// the record, only names and positions.
type DecodeError struct {
	Reason string // one of the Reason constants
	Err    error
}

func (e *DecodeError) Error() string { return e.Err.Error() }
func (e *DecodeError) Unwrap() error { return e.Err }

// Record is a record decoded.
type Record struct {
	// Call is the record with its inner JSON parsed and its times in UTC.
	// After a *DecodeError of an inner field or a time it holds what was
	// read (the status among it); after any other error it is nil.
	Call *event.Call
	// Content is the vendor's content string as sent, the input of
	// event.ID.
	Content string
	// Unknown names the keys that the decoder does not know, each kept as
	// raw JSON in an Extra map: "key" at the top level, "content.key" and
	// "content.Sentences.key" inside content, "message.key" inside
	// message, "departmentName.key" inside a department. Nil when there
	// are none.
	Unknown []string
}

// DecodeCall decodes one record, its inner JSON included. Strings sent as
// null become "", numbers sent as null 0. Every failure is a *DecodeError.
func DecodeCall(raw []byte) (Record, error) {
	var (
		rec              Record
		c                event.Call
		deps             string
		message          string // none when empty
		hasID, hasStatus bool
		hasGmt           bool
		gmtErr           error
		msgTimeErr       = errTimeLayout // none is an empty one
	)
	s := newScanner(raw)
	defer s.release()
	// A record valid as a whole needs no check of its strings one by one.
	s.utf8 = utf8.Valid(raw)
	var name []byte
	err := s.object()
	for n := 0; err == nil && s.field(n, &name, &err); n++ {
		var null bool
		switch string(name) {
		case "id":
			null, err = s.intInto(64, &c.ID)
			hasID = hasID || !null
		case "status":
			v := int64(c.Status)
			null, err = s.intInto(32, &v)
			c.Status, hasStatus = int32(v), hasStatus || !null
		case "preCost":
			_, err = s.intInto(64, &c.PreCost)
		case "cost":
			_, err = s.intInto(64, &c.Cost)
		case "salesId":
			_, err = s.intInto(64, &c.SalesID)
		case "gmtCreateTime":
			var v []byte
			if v, _, null, err = s.readBytes(); err == nil && !null {
				c.GmtCreateTime, gmtErr = parseTimeOf(v)
				hasGmt = true
			}
		case "msgTime":
			var v []byte
			if v, _, null, err = s.readBytes(); err == nil && !null {
				c.MsgTime, msgTimeErr = parseTimeOf(v)
			}
		case "departmentName":
			_, err = s.readString(&deps)
		case "content":
			_, err = s.readString(&rec.Content)
		case "message":
			if null, err = s.readString(&message); null {
				message = "" // a null after a value is none, as encoding/json has it
			}
		// Plain strings; those whose values repeat across calls interned.
		case "taskId":
			_, err = s.readString(&c.TaskID)
		case "corpId":
			_, err = s.readInterned(&c.CorpID)
		case "type":
			_, err = s.readInterned(&c.Type)
		case "msgId":
			_, err = s.readString(&c.MsgID)
		case "statusStr":
			_, err = s.readInterned(&c.StatusStr)
		case "method":
			_, err = s.readInterned(&c.Method)
		case "salesName":
			_, err = s.readInterned(&c.SalesName)
		case "sendName":
			_, err = s.readString(&c.SendName)
		case "receiveName":
			_, err = s.readString(&c.ReceiveName)
		case "callType":
			_, err = s.readInterned(&c.CallType)
		case "url":
			_, err = s.readString(&c.URL)
		// The keys the vendor documents and always sends as null: a null
		// one is dropped, any other value travels in Extra.
		case "createTime", "sender", "senderType", "recipient", "recipientType", "sendAvatar",
			"sendThumbAvatar", "sendIsWx", "receiveAvatar", "receiveThumbAvatar", "receiveIsWx",
			"userId", "chatId":
			if s.peek() == 'n' {
				err = s.literal()
			} else {
				err = extraField(s, &c.Extra, nil, "", name)
			}
		default:
			err = extraField(s, &c.Extra, &rec.Unknown, "", name)
		}
		if err != nil {
			err = fmt.Errorf("reading %s: %w", name, err)
		}
	}
	if err == nil {
		err = s.end()
	}
	switch {
	case err != nil:
		return Record{}, &DecodeError{Reason: ReasonRecordJSON, Err: fmt.Errorf("decoding record: %w", err)}
	case !hasID || c.ID == 0:
		return Record{}, &DecodeError{Reason: ReasonNoID, Err: errors.New("decoding record: no id")}
	}
	rec.Call = &c
	switch {
	case !hasStatus:
		return rec, &DecodeError{Reason: ReasonNoStatus, Err: errors.New("decoding record: no status")}
	case !hasGmt:
		return rec, &DecodeError{Reason: ReasonNoGmtCreateTime, Err: errors.New("decoding record: no gmtCreateTime")}
	}
	if gmtErr != nil {
		return rec, &DecodeError{Reason: ReasonTimeFormat, Err: fmt.Errorf("parsing gmtCreateTime: %w", gmtErr)}
	}
	if msgTimeErr != nil {
		return rec, &DecodeError{Reason: ReasonTimeFormat, Err: fmt.Errorf("parsing msgTime: %w", msgTimeErr)}
	}
	c.GmtCreateTime, c.MsgTime = c.GmtCreateTime.UTC(), c.MsgTime.UTC()
	if c.Departments, err = parseDepartments(deps, &rec.Unknown); err != nil {
		return rec, &DecodeError{Reason: ReasonDepartmentJSON, Err: fmt.Errorf("parsing departmentName: %w", err)}
	}
	if message != "" {
		if c.Message, err = parseTaskStatus(message, &rec.Unknown); err != nil {
			return rec, &DecodeError{Reason: ReasonMessageJSON, Err: fmt.Errorf("parsing message: %w", err)}
		}
	}
	if c.Content, err = parseContent(rec.Content, &rec.Unknown); err != nil {
		return rec, &DecodeError{Reason: ReasonContentJSON, Err: fmt.Errorf("parsing content: %w", err)}
	}
	return rec, nil
}

// extraField keeps the value of a key that has no field of its own as raw
// JSON in *extra, and names the key in *unknown, with prefix, unless
// unknown is nil (a key the vendor documents).
func extraField(s *scanner, extra *map[string]string, unknown *[]string, prefix string, key []byte) error {
	v, err := s.rawValue()
	if err != nil {
		return err
	}
	name := string(key)
	if unknown != nil {
		*unknown = append(*unknown, prefix+name)
	}
	if *extra == nil {
		*extra = make(map[string]string)
	}
	// Avro strings are UTF-8: raw bytes that are not are mangled as the
	// decoder mangles them in strings.
	(*extra)[name] = s.rawString(v)
	return nil
}

// parseDepartments parses departmentName, a JSON list of {"id","level",
// "name"}; other keys of a department travel in its Extra and are named in
// *unknown as "departmentName.key". An empty string, null and [] are no
// departments.
func parseDepartments(str string, unknown *[]string) ([]event.Department, error) {
	if str == "" {
		return nil, nil
	}
	s := newStringScanner(str)
	defer s.release()
	deps, err := readArray(s, &s.deps, func() (event.Department, error) { return readDepartment(s, unknown) })
	if err == nil {
		err = s.end()
	}
	if err != nil {
		return nil, err
	}
	return deps, nil
}

// readDepartment reads a department, or null.
func readDepartment(s *scanner, unknown *[]string) (event.Department, error) {
	var dep event.Department
	if s.peek() == 'n' {
		return dep, s.literal()
	}
	var name []byte
	err := s.object()
	for n := 0; err == nil && s.field(n, &name, &err); n++ {
		switch string(name) {
		case "id":
			_, err = s.intInto(64, &dep.ID)
		case "level":
			_, err = s.readInterned(&dep.Level)
		case "name":
			_, err = s.readInterned(&dep.Name)
		default:
			err = extraField(s, &dep.Extra, unknown, "departmentName.", name)
		}
	}
	if err != nil {
		return dep, err
	}
	if dep.Path, err = parseLevel(dep.Level); err != nil {
		return dep, fmt.Errorf("department %d: %w", dep.ID, err)
	}
	return dep, nil
}

// parseLevel parses a dotted path of ids such as "0.93186.105610.": the
// vendor ends it with a dot, so empty segments are skipped.
func parseLevel(level string) ([]int64, error) {
	if level == "" {
		return nil, nil
	}
	path := make([]int64, 0, strings.Count(level, ".")+1)
	for rest := level; rest != ""; {
		seg, after, _ := strings.Cut(rest, ".")
		rest = after
		if seg == "" {
			continue
		}
		id, ok := parseDecimal(seg)
		if !ok {
			return nil, fmt.Errorf("parsing level %q: %q is not an id", level, seg)
		}
		path = append(path, id)
	}
	if len(path) == 0 {
		return nil, nil
	}
	return path, nil
}
