package calllist

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

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

// nullFields are the record's keys that the vendor documents and always
// sends as null. A null one is dropped; any other value travels in Extra.
var nullFields = map[string]bool{
	"createTime": true, "sender": true, "senderType": true, "recipient": true, "recipientType": true,
	"sendAvatar": true, "sendThumbAvatar": true, "sendIsWx": true, "receiveAvatar": true,
	"receiveThumbAvatar": true, "receiveIsWx": true, "userId": true, "chatId": true,
}

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
		rec                Record
		c                  event.Call
		gmt, msgTime, deps string
		message            *string
		hasID, hasStatus   bool
		hasGmt             bool
	)
	d := newDecoder(raw)
	defer d.release()
	err := readObject(d, func(name []byte) error {
		var err error
		switch string(name) {
		case "id":
			var null bool
			null, err = intInto(d, 64, &c.ID)
			hasID = hasID || !null
		case "status":
			var v int64 = int64(c.Status)
			var null bool
			null, err = intInto(d, 32, &v)
			c.Status, hasStatus = int32(v), hasStatus || !null
		case "preCost":
			_, err = intInto(d, 64, &c.PreCost)
		case "cost":
			_, err = intInto(d, 64, &c.Cost)
		case "salesId":
			_, err = intInto(d, 64, &c.SalesID)
		case "gmtCreateTime":
			var null bool
			null, err = readString(d, &gmt)
			hasGmt = hasGmt || !null
		case "msgTime":
			_, err = readString(d, &msgTime)
		case "departmentName":
			_, err = readString(d, &deps)
		case "content":
			_, err = readString(d, &rec.Content)
		case "message":
			var s string
			var null bool
			if null, err = readString(d, &s); null {
				message = nil // a pointer, as encoding/json sets it
			} else {
				message = &s
			}
		default:
			if p := stringField(&c, name); p != nil {
				_, err = readString(d, p)
				break
			}
			err = extraField(d, &c.Extra, &rec.Unknown, "", name)
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", name, err)
		}
		return nil
	})
	if err == nil {
		err = endOfInput(d)
	}
	switch {
	case err != nil:
		return Record{}, &DecodeError{Reason: ReasonRecordJSON, Err: fmt.Errorf("decoding record: %w", jsonError(err))}
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
	if c.GmtCreateTime, err = parseTime("gmtCreateTime", gmt); err != nil {
		return rec, err
	}
	if c.MsgTime, err = parseTime("msgTime", msgTime); err != nil {
		return rec, err
	}
	if c.Departments, err = parseDepartments(deps, &rec.Unknown); err != nil {
		return rec, &DecodeError{Reason: ReasonDepartmentJSON, Err: fmt.Errorf("parsing departmentName: %w", err)}
	}
	if message != nil && *message != "" {
		if c.Message, err = parseTaskStatus(*message, &rec.Unknown); err != nil {
			return rec, &DecodeError{Reason: ReasonMessageJSON, Err: fmt.Errorf("parsing message: %w", err)}
		}
	}
	if c.Content, err = parseContent(rec.Content, &rec.Unknown); err != nil {
		return rec, &DecodeError{Reason: ReasonContentJSON, Err: fmt.Errorf("parsing content: %w", err)}
	}
	return rec, nil
}

// stringField returns the Call field of a plain string key of the record.
func stringField(c *event.Call, name []byte) *string {
	switch string(name) {
	case "taskId":
		return &c.TaskID
	case "corpId":
		return &c.CorpID
	case "type":
		return &c.Type
	case "msgId":
		return &c.MsgID
	case "statusStr":
		return &c.StatusStr
	case "method":
		return &c.Method
	case "salesName":
		return &c.SalesName
	case "sendName":
		return &c.SendName
	case "receiveName":
		return &c.ReceiveName
	case "callType":
		return &c.CallType
	case "url":
		return &c.URL
	}
	return nil
}

// extraField keeps the value of a key that has no field of its own as raw
// JSON in *extra, unless it is a documented always-null key sent as null.
// Keys that are not documented are named in *unknown, with prefix.
func extraField(d *tokenizer, extra *map[string]string, unknown *[]string, prefix string, key []byte) error {
	name := string(key)
	v, err := d.ReadValue()
	if err != nil {
		return err
	}
	documented := prefix == "" && nullFields[name]
	if documented && v.Kind() == 'n' {
		return nil
	}
	if !documented {
		*unknown = append(*unknown, prefix+name)
	}
	if *extra == nil {
		*extra = make(map[string]string)
	}
	// Avro strings are UTF-8: raw bytes that are not are mangled as the
	// tokenizer mangles them in strings.
	(*extra)[name] = strings.ToValidUTF8(string(v), "\uFFFD")
	return nil
}

func parseTime(field, s string) (time.Time, error) {
	t, err := ParseTime(s)
	if err != nil {
		return time.Time{}, &DecodeError{Reason: ReasonTimeFormat, Err: fmt.Errorf("parsing %s: %w", field, err)}
	}
	return t.UTC(), nil
}

// parseDepartments parses departmentName, a JSON list of {"id","level",
// "name"}; other keys of a department travel in its Extra and are named in
// *unknown as "departmentName.key". An empty string, null and [] are no
// departments.
func parseDepartments(s string, unknown *[]string) ([]event.Department, error) {
	if s == "" {
		return nil, nil
	}
	d := newDecoder([]byte(s))
	defer d.release()
	var deps []event.Department
	err := readArray(d, func() error {
		var dep event.Department
		if d.PeekKind() == 'n' {
			deps = append(deps, dep)
			return d.SkipValue()
		}
		err := readObject(d, func(name []byte) error {
			switch string(name) {
			case "id":
				var err error
				_, err = intInto(d, 64, &dep.ID)
				return err
			case "level":
				_, err := readString(d, &dep.Level)
				return err
			case "name":
				_, err := readString(d, &dep.Name)
				return err
			}
			return extraField(d, &dep.Extra, unknown, "departmentName.", name)
		})
		if err != nil {
			return err
		}
		if dep.Path, err = parseLevel(dep.Level); err != nil {
			return fmt.Errorf("department %d: %w", dep.ID, err)
		}
		deps = append(deps, dep)
		return nil
	})
	if err == nil {
		err = endOfInput(d)
	}
	if err != nil {
		return nil, jsonError(err)
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

// readArray reads an array or null, calling elem for each element; elem
// must read or skip it.
func readArray(d *tokenizer, elem func() error) error {
	switch k := d.PeekKind(); k {
	case 'n':
		return d.SkipValue()
	case '[':
	case 0:
		_, err := d.ReadToken()
		return err
	default:
		if err := d.SkipValue(); err != nil {
			return err
		}
		return &typeError{want: "an array", got: k}
	}
	if _, err := d.ReadToken(); err != nil {
		return err
	}
	for d.PeekKind() != ']' {
		if err := elem(); err != nil {
			return err
		}
	}
	_, err := d.ReadToken()
	return err
}
