package calllist

import (
	"errors"
	"time"

	"github.com/callstream/callstream/connector/event"
)

// content is the union of the shapes the vendor puts in content and
// message: a transcript {"Sentences":[…]} or the speech engine's task status
// {"TaskId","StatusText","RequestTime","SolveTime","StatusCode"}.
type content struct {
	sentences   []event.Sentence
	hasSentence bool // Sentences present and not null
	taskID      string
	hasTaskID   bool
	statusText  string
	requestTime int64
	solveTime   int64
	statusCode  int64
	hasCode     bool
	extra       map[string]string
}

// errNotContent is valid JSON of another shape.
var errNotContent = errors.New("neither a transcript (Sentences) nor a task status (TaskId, StatusCode)")

// decodeContent reads the JSON text of content or message; prefix names its
// unknown keys.
func decodeContent(text, prefix string, unknown *[]string) (*content, error) {
	var c content
	d := newStringDecoder(text)
	defer d.release()
	err := readObject(d, func(name []byte) error {
		var err error
		switch string(name) {
		case "Sentences":
			c.sentences, c.hasSentence = nil, d.PeekKind() != 'n'
			err = readArray(d, func() error {
				s, err := decodeSentence(d, prefix+"Sentences.", unknown)
				c.sentences = append(c.sentences, s)
				return err
			})
		case "TaskId":
			var null bool
			null, err = readString(d, &c.taskID)
			c.hasTaskID = !null
			if null {
				c.taskID = ""
			}
		case "StatusText":
			_, err = readString(d, &c.statusText)
		case "RequestTime":
			_, err = intInto(d, 64, &c.requestTime)
		case "SolveTime":
			_, err = intInto(d, 64, &c.solveTime)
		case "StatusCode":
			var null bool
			c.statusCode, null, err = readInt(d, 64)
			c.hasCode = !null
		default:
			err = extraField(d, &c.extra, unknown, prefix, name)
		}
		return err
	})
	if err == nil {
		err = endOfInput(d)
	}
	if err != nil {
		return nil, jsonError(err)
	}
	return &c, nil
}

func decodeSentence(d *tokenizer, prefix string, unknown *[]string) (event.Sentence, error) {
	var s event.Sentence
	if d.PeekKind() == 'n' {
		return s, d.SkipValue()
	}
	err := readObject(d, func(name []byte) error {
		var err error
		switch string(name) {
		case "BeginTime":
			_, err = intInto(d, 64, &s.BeginTimeMs)
		case "EndTime":
			_, err = intInto(d, 64, &s.EndTimeMs)
		case "Text":
			_, err = readString(d, &s.Text)
		case "ChannelId":
			v := int64(s.ChannelID)
			_, err = intInto(d, 32, &v)
			s.ChannelID = int32(v)
		default:
			err = extraField(d, &s.Extra, unknown, prefix, name)
		}
		return err
	})
	return s, err
}

func (c *content) isTaskStatus() bool { return c.hasTaskID || c.hasCode }

func (c *content) taskStatus() *event.TaskStatus {
	return &event.TaskStatus{
		TaskID:      c.taskID,
		StatusText:  c.statusText,
		RequestTime: time.UnixMilli(c.requestTime).UTC(),
		SolveTime:   time.UnixMilli(c.solveTime).UTC(),
		StatusCode:  c.statusCode,
		Extra:       c.extra,
	}
}

// parseTaskStatus parses message, which must be a task status.
func parseTaskStatus(text string, unknown *[]string) (*event.TaskStatus, error) {
	c, err := decodeContent(text, "message.", unknown)
	if err != nil {
		return nil, err
	}
	if !c.isTaskStatus() {
		return nil, errors.New("not a task status (no TaskId or StatusCode)")
	}
	return c.taskStatus(), nil
}

// parseContent parses content: nil when empty (a call in progress), a
// *event.Transcript, or a *event.TaskStatus (a failed conversion).
func parseContent(text string, unknown *[]string) (any, error) {
	if text == "" {
		return nil, nil
	}
	c, err := decodeContent(text, "content.", unknown)
	if err != nil {
		return nil, err
	}
	switch {
	case c.hasSentence:
		return &event.Transcript{Sentences: c.sentences, Extra: c.extra}, nil
	case c.isTaskStatus():
		return c.taskStatus(), nil
	}
	return nil, errNotContent
}
