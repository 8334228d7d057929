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

// ErrTransactionTimedOut is wrapped by Commit's *FatalError when the
// transaction outlasted the time the connector gives it (Bounds), or was
// ended by the coordinator's own timeout: the producer's epoch was bumped
// under it, not by a newer instance, and the outcome may be unknown. The
// producer cannot go on, but the process can: a new producer (whose
// initialisation aborts whatever is still open) and a fresh restore tell
// what committed. IsFenced is false for it; FatalClass names it
// ClassTimeout.
var ErrTransactionTimedOut = errors.New("transaction timed out")

// DefaultTransactionTimeout is the transaction timeout unless
// Config.TransactionTimeout says otherwise.
const DefaultTransactionTimeout = time.Minute

// Bounds returns how long a commit may take to produce its records and
// then to end the transaction: half and a quarter of the transaction
// timeout, so that both fit inside it with a quarter to spare for the
// coordinator's clock and the requests in flight. Ending runs on a context
// detached from the caller's: a shutdown must not cut a commit in half,
// since an EndTxn cancelled in flight leaves its outcome unknown.
func Bounds(timeout time.Duration) (produce, end time.Duration) {
	return timeout / 2, timeout / 4
}

// Commit produces recs in one transaction and commits it. Every produce
// promise is checked; if any failed the transaction is aborted and the error
// wraps ErrAborted. Failures that leave the producer unusable or the outcome
// unknown are *FatalError; those of a transaction that outlasted its
// bounds or the coordinator's timeout also wrap ErrTransactionTimedOut.
// ctx and the produce bound (see Bounds) bound the produce; the end of the
// transaction runs to completion or to the end bound.
func (s *Sink) Commit(ctx context.Context, recs []*kgo.Record) error {
	if err := s.cl.BeginTransaction(); err != nil {
		return &FatalError{fmt.Errorf("beginning transaction: %w", err)}
	}
	began := time.Now()
	produceBound, endBound := Bounds(s.cfg.TransactionTimeout)
	pctx, pcancel := context.WithTimeout(ctx, produceBound)
	produceErr := s.cl.ProduceSync(pctx, recs...).FirstErr()
	pcancel()
	endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), endBound)
	defer cancel()
	if produceErr != nil {
		return s.timedOut(began, s.abort(endCtx, fmt.Errorf("producing %d records: %w", len(recs), produceErr)))
	}
	s.at(PointProduced)
	if err := s.cl.EndTransaction(endCtx, kgo.TryCommit); err != nil {
		if abortable(err) {
			return s.timedOut(began, s.abort(endCtx, fmt.Errorf("committing: %w", err)))
		}
		return s.timedOut(began, &FatalError{fmt.Errorf("committing transaction: %w", err)})
	}
	return nil
}

// timedOut marks a fatal error of a transaction begun at began as
// ErrTransactionTimedOut when the end bound passed with the outcome
// unknown, or when a fence-like answer came after the transaction was open
// for the whole transaction timeout: the coordinator, not a newer
// instance, bumped the epoch. A fence that comes sooner is a newer
// instance's, whatever the connector's own timeout.
func (s *Sink) timedOut(began time.Time, err error) error {
	if !IsFatal(err) {
		return err
	}
	open := time.Since(began)
	if errors.Is(err, context.DeadlineExceeded) || (IsFenced(err) && open >= s.cfg.TransactionTimeout) {
		return &FatalError{fmt.Errorf("%w after %s open (transaction timeout %s): %w",
			ErrTransactionTimedOut, open.Round(time.Millisecond), s.cfg.TransactionTimeout, err)}
	}
	return err
}

// IsFenced reports whether err means that a newer producer with the same
// transactional id took over: another instance started, so this one must
// stop. Under the classic protocol a producer fenced in the middle of a
// transaction may be told INVALID_TXN_STATE instead of PRODUCER_FENCED
// (the coordinator already aborted its transaction for the newer one);
// franz-go keeps its own transaction state right, so from a broker that is
// the fence too. A transaction that timed out (ErrTransactionTimedOut) is
// not a fence, whatever the broker answered.
func IsFenced(err error) bool {
	if errors.Is(err, ErrTransactionTimedOut) {
		return false
	}
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
