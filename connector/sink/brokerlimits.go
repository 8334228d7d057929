package sink

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// BrokerLimits are the brokers' settings that bound the connector's own: read
// from the cluster where the principal may describe them, each zero when
// it could not be read.
type BrokerLimits struct {
	// Brokers is how many brokers the cluster has.
	Brokers int
	// TransactionMaxTimeout is transaction.max.timeout.ms: the longest
	// transaction timeout a producer may ask for.
	TransactionMaxTimeout time.Duration
	// GroupMinSession and GroupMaxSession are
	// group.min.session.timeout.ms and group.max.session.timeout.ms: the
	// session timeouts the group coordinator accepts.
	GroupMinSession, GroupMaxSession time.Duration
}

// ReadBrokerLimits reads the cluster's limits from one broker's configs (a
// cluster-wide describe answers only the dynamic values, not those of
// server.properties). A principal without DESCRIBE_CONFIGS on the cluster
// gets the broker count alone and err saying why the rest is missing:
// callers go on without the checks the limits allow.
func ReadBrokerLimits(ctx context.Context, adm *kadm.Client) (BrokerLimits, error) {
	var l BrokerLimits
	brokers, err := adm.ListBrokers(ctx)
	if err != nil {
		return l, fmt.Errorf("listing brokers: %w", err)
	}
	l.Brokers = len(brokers)
	if l.Brokers == 0 {
		return l, nil
	}
	rcs, err := adm.DescribeBrokerConfigs(ctx, brokers[0].NodeID)
	if err == nil && len(rcs) > 0 {
		err = rcs[0].Err
	}
	if err != nil {
		return l, fmt.Errorf("describing the configs of broker %d: %w", brokers[0].NodeID, err)
	}
	for _, c := range rcs[0].Configs {
		if c.Value == nil {
			continue
		}
		ms, err := strconv.ParseInt(*c.Value, 10, 64)
		if err != nil {
			continue
		}
		d := time.Duration(ms) * time.Millisecond
		switch c.Key {
		case "transaction.max.timeout.ms":
			l.TransactionMaxTimeout = d
		case "group.min.session.timeout.ms":
			l.GroupMinSession = d
		case "group.max.session.timeout.ms":
			l.GroupMaxSession = d
		}
	}
	return l, nil
}

// DialBrokerLimits is ReadBrokerLimits over a client of its own, made of opts
// (seed brokers, security).
func DialBrokerLimits(ctx context.Context, opts []kgo.Opt) (BrokerLimits, error) {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return BrokerLimits{}, fmt.Errorf("creating kafka client: %w", err)
	}
	defer cl.Close()
	return ReadBrokerLimits(ctx, kadm.NewClient(cl))
}

// CheckTransactionTimeout refuses a transaction timeout over the brokers'
// transaction.max.timeout.ms, in one line naming both; nil when the limit
// is unknown (0). The error wraps kerr.InvalidTransactionTimeout, a
// setting the brokers refuse (class config).
func (l BrokerLimits) CheckTransactionTimeout(timeout time.Duration) error {
	if l.TransactionMaxTimeout > 0 && timeout > l.TransactionMaxTimeout {
		return fmt.Errorf("%w: --transaction-timeout %s is over the brokers' transaction.max.timeout.ms (%s); lower it or raise the brokers' limit",
			kerr.InvalidTransactionTimeout, timeout, l.TransactionMaxTimeout)
	}
	return nil
}

// CheckSessionTimeout refuses a group session timeout outside the
// brokers' group.min/max.session.timeout.ms, in one line; nil when the
// bounds are unknown. The error wraps kerr.InvalidSessionTimeout (class
// config).
func (l BrokerLimits) CheckSessionTimeout(timeout time.Duration) error {
	if (l.GroupMinSession > 0 && timeout < l.GroupMinSession) || (l.GroupMaxSession > 0 && timeout > l.GroupMaxSession) {
		return fmt.Errorf("%w: --session-timeout %s is outside the brokers' group.min.session.timeout.ms..group.max.session.timeout.ms (%s..%s)",
			kerr.InvalidSessionTimeout, timeout, l.GroupMinSession, l.GroupMaxSession)
	}
	return nil
}
