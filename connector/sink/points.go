package sink

import (
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Point names a step at which Config.At is called. Tests use the points to
// crash the process at an exact step and check that nothing is lost or
// duplicated; production leaves At nil. The connector names steps of its
// own with this type (connector.Points lists them all).
type Point string

// The points of a commit, in the order it reaches them.
const (
	// PointProduced: every record of the transaction is acknowledged and
	// the commit (EndTxn) is not yet sent.
	PointProduced Point = "after-produce"
	// PointEndTxnSent: an EndTxn request was written to the coordinator
	// and its answer is not yet read.
	PointEndTxnSent Point = "during-commit"
)

func (s *Sink) at(p Point) {
	if s.cfg.At != nil {
		s.cfg.At(p)
	}
}

// endTxnWritten calls at(PointEndTxnSent) once an EndTxn request left for
// the broker: the outcome is then in the broker's hands, and a crash here
// leaves the client not knowing it.
type endTxnWritten func(Point)

var _ kgo.HookBrokerWrite = endTxnWritten(nil)

// OnBrokerWrite implements kgo.HookBrokerWrite.
func (h endTxnWritten) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if key == int16(kmsg.EndTxn) && err == nil {
		h(PointEndTxnSent)
	}
}
