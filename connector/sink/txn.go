package sink

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrAborted is wrapped by Commit's error when the transaction was aborted
// cleanly: nothing of the batch is visible and the caller may try it again.
var ErrAborted = errors.New("transaction aborted")

// FatalError is a failure after which the producer cannot go on: fenced by a
// newer instance, an unknown transaction outcome, an authorization error.
// The process should exit non-zero; at restart the fence resolves whatever
// was left open and the state topic tells what committed.
type FatalError struct{ Err error }

func (e *FatalError) Error() string { return "fatal kafka error: " + e.Err.Error() }
func (e *FatalError) Unwrap() error { return e.Err }

// IsFatal reports whether err wraps a *FatalError.
func IsFatal(err error) bool {
	var f *FatalError
	return errors.As(err, &f)
}

// endTimeout bounds ending a transaction. Ending runs on a context detached
// from the caller's: a shutdown must not cut a commit in half, since an
// EndTxn cancelled in flight leaves its outcome unknown.
const endTimeout = 30 * time.Second

// Commit produces recs in one transaction and commits it. Every produce
// promise is checked; if any failed the transaction is aborted and the error
// wraps ErrAborted. Failures that leave the producer unusable or the outcome
// unknown are *FatalError. ctx bounds the produce; the end of the
// transaction always runs to completion.
func (s *Sink) Commit(ctx context.Context, recs []*kgo.Record) error {
	if err := s.cl.BeginTransaction(); err != nil {
		return &FatalError{fmt.Errorf("beginning transaction: %w", err)}
	}
	produceErr := s.cl.ProduceSync(ctx, recs...).FirstErr()
	endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), endTimeout)
	defer cancel()
	if produceErr != nil {
		return s.abort(endCtx, fmt.Errorf("producing %d records: %w", len(recs), produceErr))
	}
	s.at(PointProduced)
	if err := s.cl.EndTransaction(endCtx, kgo.TryCommit); err != nil {
		if abortable(err) {
			return s.abort(endCtx, fmt.Errorf("committing: %w", err))
		}
		return &FatalError{fmt.Errorf("committing transaction: %w", err)}
	}
	return nil
}

// IsFenced reports whether err means that a newer producer with the same
// transactional id took over: another instance started, so this one must
// stop. Under the classic protocol a producer fenced in the middle of a
// transaction may be told INVALID_TXN_STATE instead of PRODUCER_FENCED
// (the coordinator already aborted its transaction for the newer one);
// franz-go keeps its own transaction state right, so from a broker that is
// the fence too.
func IsFenced(err error) bool {
	return errors.Is(err, kerr.ProducerFenced) || errors.Is(err, kerr.InvalidProducerEpoch) ||
		errors.Is(err, kerr.InvalidTxnState)
}

// abort ends the open transaction with an abort. A failed abort is fatal.
func (s *Sink) abort(ctx context.Context, cause error) error {
	if fatal(cause) {
		return &FatalError{cause}
	}
	if err := s.cl.AbortBufferedRecords(ctx); err != nil {
		return &FatalError{fmt.Errorf("%w; dropping buffered records: %w", cause, err)}
	}
	if err := s.cl.EndTransaction(ctx, kgo.TryAbort); err != nil {
		return &FatalError{fmt.Errorf("%w; aborting: %w", cause, err)}
	}
	return fmt.Errorf("%w: %w", ErrAborted, cause)
}

// abortable reports errors after which franz-go documents that the
// transaction can still be aborted and retried.
func abortable(err error) bool {
	return errors.Is(err, kerr.OperationNotAttempted) || errors.Is(err, kerr.TransactionAbortable)
}

// fatal reports errors that no abort can mend: this producer was fenced or
// is not allowed to write.
func fatal(err error) bool {
	for _, e := range []error{
		kerr.ProducerFenced, kerr.InvalidProducerEpoch, kerr.TransactionalIDAuthorizationFailed,
		kerr.InvalidProducerIDMapping, kerr.TopicAuthorizationFailed, kerr.ClusterAuthorizationFailed,
		kerr.UnsupportedForMessageFormat, kerr.InvalidTxnState,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
