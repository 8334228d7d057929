// Package event turns a vendor record into the Avro events that callstream
// produces (schemas/call_event.avsc, schemas/dead_letter.avsc), and encodes
// and decodes them in both wire formats: Avro single-object encoding and
// Confluent Schema Registry framing.
//
// The Go types mirror the schemas field for field; their avro tags bind
// them to the schema and their json tags give readers such as
// "callstream tail" the same names. Times are time.Time, encoded as
// timestamp-millis: anything finer than a millisecond is dropped.
package event

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

// Kind says what happened to a call. It is the Avro enum EventKind.
type Kind string

// The kinds of event.
const (
	// Created is a call that the connector sees for the first time.
	Created Kind = "CREATED"
	// StatusChanged is a call seen before that now shows another status.
	StatusChanged Kind = "STATUS_CHANGED"
	// Updated is a call emitted before whose content changed while its
	// status did not: a corrected transcript, a name filled in.
	Updated Kind = "UPDATED"
)

// Kinds returns every Kind, in the order of the schema's symbols.
func Kinds() []Kind { return []Kind{Created, StatusChanged, Updated} }

// String returns the enum symbol, e.g. "CREATED".
func (k Kind) String() string { return string(k) }

// Event is one value of the calls or failed topic (record CallEvent).
type Event struct {
	// EventID is ID(call id, status, content): the same change always has
	// the same id, so readers can dedup.
	EventID string `avro:"eventId" json:"eventId"`
	Kind    Kind   `avro:"kind" json:"kind"`
	// PreviousStatus is the status of the call's event before this one;
	// nil for Created, the call's own status for Updated.
	PreviousStatus *int32 `avro:"previousStatus" json:"previousStatus"`
	// Call is the call after the change. It must not be nil when encoding.
	Call   *Call  `avro:"call" json:"call"`
	Source Source `avro:"source" json:"source"`
}

// Call is a vendor record with its inner JSON parsed (record Call).
// Collections that are empty are nil, as calllist.DecodeCall and the
// Decoder make them.
type Call struct {
	ID            int64        `avro:"id" json:"id"`
	TaskID        string       `avro:"taskId" json:"taskId"`
	CorpID        string       `avro:"corpId" json:"corpId"`
	Type          string       `avro:"type" json:"type"`
	MsgID         string       `avro:"msgId" json:"msgId"`
	PreCost       int64        `avro:"preCost" json:"preCost"`
	Cost          int64        `avro:"cost" json:"cost"`
	Status        int32        `avro:"status" json:"status"`
	StatusStr     string       `avro:"statusStr" json:"statusStr"`
	Method        string       `avro:"method" json:"method"`
	SalesID       int64        `avro:"salesId" json:"salesId"`
	SalesName     string       `avro:"salesName" json:"salesName"`
	GmtCreateTime time.Time    `avro:"gmtCreateTime" json:"gmtCreateTime"`
	MsgTime       time.Time    `avro:"msgTime" json:"msgTime"`
	Departments   []Department `avro:"departments" json:"departments"`
	SendName      string       `avro:"sendName" json:"sendName"`
	ReceiveName   string       `avro:"receiveName" json:"receiveName"`
	CallType      string       `avro:"callType" json:"callType"`
	URL           string       `avro:"url" json:"url"`
	// Message is the speech engine's task status, nil when the vendor
	// sent none.
	Message *TaskStatus `avro:"message" json:"message"`
	// Content is nil (conversion in progress), *Transcript (converted) or
	// *TaskStatus (failed); the encoder rejects any other type.
	Content any `avro:"content" json:"content"`
	// Extra holds the raw JSON of each key the vendor sent that has no
	// field here, and of each field documented as always null that was
	// not null, keyed by the vendor's name; normally nil.
	Extra map[string]string `avro:"extra" json:"extra"`
}

// Department is one of the salesperson's departments (record Department).
type Department struct {
	ID int64 `avro:"id" json:"id"`
	// Level is the vendor's dotted path of ids, e.g. "0.93186.105610.".
	Level string `avro:"level" json:"level"`
	// Path is Level parsed, root first: [0 93186 105610].
	Path []int64 `avro:"path" json:"path"`
	Name string  `avro:"name" json:"name"`
	// Extra holds the raw JSON of each key the vendor sent in the
	// department that has no field here; normally nil.
	Extra map[string]string `avro:"extra" json:"extra"`
}

// TaskStatus is the speech engine's status of a task (record TaskStatus),
// from the vendor's message, and its content when the conversion failed.
type TaskStatus struct {
	TaskID      string    `avro:"taskId" json:"taskId"`
	StatusText  string    `avro:"statusText" json:"statusText"`
	RequestTime time.Time `avro:"requestTime" json:"requestTime"`
	SolveTime   time.Time `avro:"solveTime" json:"solveTime"`
	StatusCode  int64     `avro:"statusCode" json:"statusCode"`
	// Extra holds the raw JSON of each key the engine sent that has no
	// field here; normally nil.
	Extra map[string]string `avro:"extra" json:"extra"`
}

// Transcript is a converted call's text (record Transcript).
type Transcript struct {
	Sentences []Sentence `avro:"sentences" json:"sentences"`
	// Extra holds the raw JSON of each key the engine sent beside the
	// sentences; normally nil.
	Extra map[string]string `avro:"extra" json:"extra"`
}

// Sentence is one sentence of a Transcript (record Sentence).
type Sentence struct {
	BeginTimeMs int64  `avro:"beginTimeMs" json:"beginTimeMs"`
	EndTimeMs   int64  `avro:"endTimeMs" json:"endTimeMs"`
	Text        string `avro:"text" json:"text"`
	ChannelID   int32  `avro:"channelId" json:"channelId"`
	// Extra holds the raw JSON of each key the engine sent that has no
	// field here; normally nil.
	Extra map[string]string `avro:"extra" json:"extra"`
}

// Source says where and when a record was observed (record Source).
type Source struct {
	App              string    `avro:"app" json:"app"`
	Type             string    `avro:"type" json:"type"`
	Tier             string    `avro:"tier" json:"tier"`
	WindowStart      time.Time `avro:"windowStart" json:"windowStart"`
	WindowEnd        time.Time `avro:"windowEnd" json:"windowEnd"`
	ObservedAt       time.Time `avro:"observedAt" json:"observedAt"`
	ConnectorVersion string    `avro:"connectorVersion" json:"connectorVersion"`
	// Name is the configured source's name.
	Name string `avro:"name" json:"name"`
}

// DeadLetter is one value of the dead-letter topic (record DeadLetter).
type DeadLetter struct {
	// CallID is nil when the record was too broken to yield an id.
	CallID *int64 `avro:"callId" json:"callId"`
	// Reason is one of the Reason constants.
	Reason string `avro:"reason" json:"reason"`
	Error  string `avro:"error" json:"error"`
	// Raw is the record's JSON as the vendor sent it.
	Raw    string `avro:"raw" json:"raw"`
	Source Source `avro:"source" json:"source"`
}

// ID returns the event id of a call's change: the lowercase hex of the
// first 16 bytes of SHA-256 over "<callID>|<status>|<content>", with the
// numbers in decimal and content the vendor's raw content string.
func ID(callID int64, status int32, content string) string {
	var text [1024]byte
	return eventID(idText(text[:0], callID, status, content))
}

// idText appends "<callID>|<status>|<content>" to buf.
func idText(buf []byte, callID int64, status int32, content string) []byte {
	buf = strconv.AppendInt(buf, callID, 10)
	buf = append(buf, '|')
	buf = strconv.AppendInt(buf, int64(status), 10)
	buf = append(buf, '|')
	return append(buf, content...)
}

// eventID is the lowercase hex of the first 16 bytes of SHA-256 over text.
func eventID(text []byte) string {
	sum := sha256.Sum256(text)
	var id [32]byte
	hex.Encode(id[:], sum[:16])
	return string(id[:])
}

// UpdateID returns the event id of an Updated event: as ID, over
// "<callID>|<status>|<content>|<hash>" with hash the call's Hash as 8
// lowercase hex digits, so that a correction outside the content (a name
// filled in) has an id other than the event before it.
func UpdateID(callID int64, status int32, content string, hash uint32) string {
	var text [1024]byte
	buf := append(idText(text[:0], callID, status, content), '|')
	return eventID(fmt.Appendf(buf, "%08x", hash))
}
