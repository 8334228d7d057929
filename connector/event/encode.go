package event

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/callstream/callstream/schemas"
)

// Encoder encodes events and dead letters as Kafka record values. It is
// safe for concurrent use.
type Encoder struct {
	callEvent, deadLetter *schemas.Schema
	// The wire header of each kind of value: single-object marker and
	// fingerprint, or registry magic byte and schema id.
	eventHeader, deadHeader []byte
}

// NewEncoder returns an Encoder writing Avro single-object encoding, for
// use without a schema registry: C3 01, the schema's 8-byte little-endian
// CRC-64-AVRO fingerprint, then the datum.
func NewEncoder() *Encoder {
	return &Encoder{
		callEvent:   schemas.CallEvent(),
		deadLetter:  schemas.DeadLetter(),
		eventHeader: schemas.CallEvent().SingleObjectHeader(),
		deadHeader:  schemas.DeadLetter().SingleObjectHeader(),
	}
}

// NewRegistryEncoder returns an Encoder writing Confluent Schema Registry
// framing: 00, the 4-byte big-endian schema id, then the datum. The ids are
// those the registry gave schemas/call_event.avsc and dead_letter.avsc
// under the topics' subjects. It panics if an id is negative or above
// 2^31-1, which no registry hands out.
func NewRegistryEncoder(callEventID, deadLetterID int) *Encoder {
	return &Encoder{
		callEvent:   schemas.CallEvent(),
		deadLetter:  schemas.DeadLetter(),
		eventHeader: registryHeader(callEventID),
		deadHeader:  registryHeader(deadLetterID),
	}
}

func registryHeader(id int) []byte {
	if id < 0 || id > math.MaxInt32 {
		panic(fmt.Sprintf("event: schema registry id %d out of range", id))
	}
	return binary.BigEndian.AppendUint32([]byte{0}, uint32(id))
}

// errNilCall is returned for an Event without a Call.
var errNilCall = errors.New("event has no call")

// AppendEvent appends the encoded value of e to dst. On error it returns
// dst as it was, and the error says which event failed.
func (c *Encoder) AppendEvent(dst []byte, e *Event) ([]byte, error) {
	if e == nil || e.Call == nil {
		return dst, fmt.Errorf("encoding call event: %w", errNilCall)
	}
	n := len(dst)
	out, err := appendCallEvent(append(dst, c.eventHeader...), e)
	if err != nil {
		return dst[:n], fmt.Errorf("encoding call event %s: %w", e.EventID, err)
	}
	return out, nil
}

// AppendDeadLetter appends the encoded value of d to dst. On error it
// returns dst as it was.
func (c *Encoder) AppendDeadLetter(dst []byte, d *DeadLetter) ([]byte, error) {
	if d == nil {
		return dst, errors.New("encoding dead letter: nil")
	}
	n := len(dst)
	out, err := c.deadLetter.Append(append(dst, c.deadHeader...), d)
	if err != nil {
		return dst[:n], fmt.Errorf("encoding dead letter (%s): %w", d.Reason, err)
	}
	return out, nil
}

// Full names of the content union's record branches.
const (
	transcriptBranch = "callstream.Transcript"
	taskStatusBranch = "callstream.TaskStatus"
)
