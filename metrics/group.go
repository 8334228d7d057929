package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Group counts what a pod of a group sees of the group protocol.
type Group struct {
	// PartitionsOwned is the number of state partitions this pod owns.
	PartitionsOwned prometheus.Gauge
	// Rebalances counts the assignments and revocations seen, by event
	// (assigned, revoked, lost).
	Rebalances *prometheus.CounterVec
	// UnitRestarts counts units started again after a fence that the
	// group did not follow with a revocation, or after a failure that a
	// restart may mend (a transaction timeout, a failed commit).
	UnitRestarts prometheus.Counter
}

// NewGroup creates the group's metrics on reg.
func NewGroup(reg prometheus.Registerer) *Group {
	f := promauto.With(reg)
	g := &Group{
		PartitionsOwned: f.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "state_partitions_owned",
			Help: "State partitions (units of work) this pod owns in its group.",
		}),
		Rebalances: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "rebalances_total",
			Help: "Changes of this pod's share of the state partitions, by event (assigned, revoked, lost).",
		}, []string{"event"}),
		UnitRestarts: f.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Name: "unit_restarts_total",
			Help: "State partitions whose unit of work this pod started again after its producer was fenced while the group still assigned the partition here, or after a failure a restart may mend.",
		}),
	}
	for _, e := range []string{"assigned", "revoked", "lost"} {
		g.Rebalances.WithLabelValues(e)
	}
	return g
}
