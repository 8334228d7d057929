package connector

import (
	"context"
	"errors"

	"github.com/callstream/callstream/connector/sink"
	"github.com/twmb/franz-go/pkg/kgo"
)

// committer commits the records of one batch in one transaction. A
// *sink.Sink is one; so is a sharedCommitter, which the sources of one unit
// of work use together.
type committer interface {
	Commit(ctx context.Context, recs []*kgo.Record) error
}

// maxSharedRecords bounds the records of the batches that a sharedCommitter
// joins into one transaction; a batch larger than it goes alone.
const maxSharedRecords = 50_000

// errCommitterStopped is returned to a source that commits after its unit
// of work stopped.
var errCommitterStopped = errors.New("the unit's producer is closed")

// sharedCommitter lets several sources use one transactional producer, whose
// transactions must follow one another. The batches that wait while a
// transaction is open are committed together in the next one: each source
// still commits its events with its state, and a thousand idle sources
// cost a few transactions a poll interval instead of a thousand. All the
// batches of one transaction get its outcome; a source applies its batch to
// its store only on success, as ever.
type sharedCommitter struct {
	next committer
	reqs chan *commitReq
	done chan struct{}
}

type commitReq struct {
	ctx  context.Context
	recs []*kgo.Record
	err  chan error
}

func newSharedCommitter(next committer) *sharedCommitter {
	return &sharedCommitter{next: next, reqs: make(chan *commitReq), done: make(chan struct{})}
}

// Commit queues recs for the next transaction and waits for its outcome.
func (s *sharedCommitter) Commit(ctx context.Context, recs []*kgo.Record) error {
	r := &commitReq{ctx: ctx, recs: recs, err: make(chan error, 1)}
	select {
	case s.reqs <- r:
	case <-s.done:
		return errCommitterStopped
	}
	return <-r.err
}

// run commits until stop is closed; a transaction in progress finishes
// first. It closes done as it returns.
func (s *sharedCommitter) run(stop <-chan struct{}) {
	defer close(s.done)
	var fatal error
	for {
		var first *commitReq
		select {
		case first = <-s.reqs:
		case <-stop:
			return
		}
		joined := []*commitReq{first}
		recs := first.recs
	drain:
		for len(recs) < maxSharedRecords {
			select {
			case r := <-s.reqs:
				joined = append(joined, r)
				recs = append(recs[:len(recs):len(recs)], r.recs...)
			default:
				break drain
			}
		}
		// The first batch's context bounds the transaction: it is detached
		// from shutdown by the source (see Connector.commit). After a
		// fatal error the producer is not touched again: every batch
		// gets that error, which stops its source.
		err := fatal
		if err == nil {
			err = s.next.Commit(first.ctx, recs)
			if sink.IsFatal(err) {
				fatal = err
			}
		}
		for _, r := range joined {
			r.err <- err
		}
	}
}
