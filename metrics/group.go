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
	}
	for _, e := range []string{"assigned", "revoked", "lost"} {
		g.Rebalances.WithLabelValues(e)
	}
	return g
}
