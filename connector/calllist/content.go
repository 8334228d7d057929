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
func decodeContent(text, prefix string, unknown *[]string) (content, error) {
	var c content
	s := newStringScanner(text)
	defer s.release()
	var name []byte
	err := s.object()
	for n := 0; err == nil && s.field(n, &name, &err); n++ {
		var null bool
		switch string(name) {
		case "Sentences":
			c.hasSentence = s.peek() != 'n'
			c.sentences, err = readSentences(s, prefix+"Sentences.", unknown)
		case "TaskId":
			null, err = s.readString(&c.taskID)
			c.hasTaskID = !null
			if null {
				c.taskID = ""
			}
		case "StatusText":
			_, err = s.readString(&c.statusText)
		case "RequestTime":
			_, err = s.intInto(64, &c.requestTime)
		case "SolveTime":
			_, err = s.intInto(64, &c.solveTime)
		case "StatusCode":
			c.statusCode, null, err = s.readInt(64)
			c.hasCode = !null
		default:
			err = extraField(s, &c.extra, unknown, prefix, name)
		}
	}
	if err == nil {
		err = s.end()
	}
	return c, err
}

// readSentences reads the array of a transcript's sentences, or null.
func readSentences(s *scanner, prefix string, unknown *[]string) ([]event.Sentence, error) {
	return readArray(s, &s.sentences, func() (event.Sentence, error) { return readSentence(s, prefix, unknown) })
}

func readSentence(s *scanner, prefix string, unknown *[]string) (event.Sentence, error) {
	var sentence event.Sentence
	if s.peek() == 'n' {
		return sentence, s.literal()
	}
	var name []byte
	err := s.object()
	for n := 0; err == nil && s.field(n, &name, &err); n++ {
		switch string(name) {
		case "BeginTime":
			_, err = s.intInto(64, &sentence.BeginTimeMs)
		case "EndTime":
			_, err = s.intInto(64, &sentence.EndTimeMs)
		case "Text":
			_, err = s.readString(&sentence.Text)
		case "ChannelId":
			v := int64(sentence.ChannelID)
			_, err = s.intInto(32, &v)
			sentence.ChannelID = int32(v)
		default:
			err = extraField(s, &sentence.Extra, unknown, prefix, name)
		}
	}
	return sentence, err
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
