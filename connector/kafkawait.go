package connector

import (
	"context"
	"fmt"
	"time"

	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/connector/source"
	"github.com/callstream/callstream/internal/pause"
)

// startAttemptTimeout bounds one attempt at starting the sink (topics
// checked, producer initialised): an attempt whose request the brokers
// never answer is given up, logged and tried again with a new client, as
// any other failure that waiting may mend.
const startAttemptTimeout = 30 * time.Second

// startSink starts the unit's sink (step 1 of its run: fence), waiting for
// the brokers as long as it takes: a failure that waiting may mend (no
// broker listening yet, a coordinator still loading, a timeout) is logged
// with its reason and tried again after a backoff that doubles up to the
// first source's SourceConfig.Retry.Max, while /readyz says why it is not
// ready. A failure that waiting cannot mend (a *sink.FatalError: refused
// credentials, a denied ACL, a setting the brokers refuse) ends the start
// at once.
func (u *unit) startSink(ctx context.Context, cfg sink.Config) (*sink.Sink, error) {
	c := u.sources[0]
	initial, ceiling := c.cfg.Retry.Initial, c.cfg.Retry.Max
	if initial <= 0 {
		initial = source.DefaultRetryInitial
	}
	if ceiling <= 0 {
		ceiling = source.DefaultRetryMax
	}
	b := pause.Backoff{Initial: initial, Max: ceiling}
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, startAttemptTimeout)
		sk, err := sink.New(actx, cfg)
		cancel()
		switch {
		case err == nil:
			if attempt > 1 {
				c.log.Info("kafka ready", "attempts", attempt)
			}
			u.kafkaWaiting("")
			return sk, nil
		case sink.IsFatal(err) || ctx.Err() != nil:
			return nil, err
		}
		c.log.Warn("kafka not ready; retrying", "attempt", attempt, "retry_in_seconds", b.Peek().Seconds(), "err", err)
		u.kafkaWaiting(fmt.Sprintf("kafka not ready after %d attempts: %v", attempt, err))
		if b.Wait(ctx) != nil {
			return nil, fmt.Errorf("waiting for kafka: %w (last error: %w)", ctx.Err(), err)
		}
	}
}

// kafkaWaiting says in the unit's readiness, and its sources', why its
// producer has not started yet ("": it started).
func (u *unit) kafkaWaiting(why string) {
	if why != "" {
		u.setPhase(why)
	}
	for _, c := range u.sources {
		c.health.kafkaWaiting(why)
	}
}
