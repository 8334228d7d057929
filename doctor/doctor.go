// Package doctor checks run's settings against the vendor API, Kafka and
// the Schema Registry before a deployment, writing nothing anywhere: each
// check names what it found and, when it fails, what to do.
//
// A check is a value in a list ({name, needs, run}): the api.* checks of
// each source, the kafka.* checks, the registry's. A check runs after those
// it needs, and is skipped, naming the check that failed first, when one
// of them gave it nothing to go on; a new check says what it needs and
// nothing else changes.
package doctor

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/callstream/callstream/connector"
	"github.com/callstream/callstream/connector/registry"
)

// The names of the checks, in the order they are reported. Scripts read
// them from `doctor --format json`: they are a contract.
const (
	APIReach          = "api.reach"
	APIClock          = "api.clock"
	APIAuth           = "api.auth"
	APIType           = "api.type"
	APIPageSize       = "api.page-size"
	APIDecode         = "api.decode"
	APIChanges        = "api.changes"
	KafkaReach        = "kafka.reach"
	KafkaTransactions = "kafka.transactions"
	KafkaTopics       = "kafka.topics"
	Registry          = "registry"
)

// checkBudget bounds one check's network calls, unless it says otherwise.
const checkBudget = 5 * time.Second

// Result is the outcome of one check: what it found (Detail) and, when it
// failed, what to do (Hint). Neither ever holds a secret.
type Result struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	Hint   string `json:"hint"`
	// Skipped is set on a check that could not run because a check it
	// needs failed; it counts as failed.
	Skipped bool `json:"skipped,omitempty"`
	// Source names the source an api.* check is of, when the settings
	// list several (`sources:`).
	Source string `json:"source,omitempty"`
}

// Report is every check's result, and whether all passed.
type Report struct {
	OK     bool     `json:"ok"`
	Checks []Result `json:"checks"`
}

func pass(name, detail string) Result { return Result{Name: name, OK: true, Detail: detail} }

func fail(name, detail, hint string) Result { return Result{Name: name, Detail: detail, Hint: hint} }

// skipped is the result of a check whose prerequisite failed.
func skipped(name, prerequisite string) Result {
	return Result{Name: name, Skipped: true, Detail: "skipped: " + prerequisite + " failed",
		Hint: "fix " + prerequisite + " first, then run doctor again"}
}

// check is one check of a group whose checks share what they learn in S.
type check[S any] struct {
	name string
	// needs are the checks of the group before this one whose outcome it
	// uses.
	needs []string
	// run performs the check; its bool says whether the checks that need
	// it may go on, which a failed check may allow (api.auth when the
	// server accepts another recipe).
	run func(ctx context.Context, s *S) (Result, bool)
}

// runChecks runs checks in order on s. A check one of whose needs did not
// let it go on is skipped, naming the check that failed first.
func runChecks[S any](ctx context.Context, s *S, checks []check[S]) []Result {
	out := make([]Result, 0, len(checks))
	ok := map[string]bool{}
	cause := map[string]string{} // a check that did not let its dependants go on → the check that failed first
	for _, c := range checks {
		if i := slices.IndexFunc(c.needs, func(n string) bool { return !ok[n] }); i >= 0 {
			cause[c.name] = cause[c.needs[i]]
			out = append(out, skipped(c.name, cause[c.name]))
			continue
		}
		r, goOn := c.run(ctx, s)
		ok[c.name] = goOn
		cause[c.name] = c.name
		out = append(out, r)
	}
	return out
}

// Run runs the checks of the API (of each source), of Kafka and, with reg,
// of the registry, side by side; the checks of one group run in order. The
// sources share the brokers, topics and registry, which the first one's
// settings describe.
func Run(ctx context.Context, sources []connector.SourceConfig, reg *registry.Client) Report {
	var (
		wg                sync.WaitGroup
		kafka, registered []Result
		api               = make([][]Result, len(sources))
	)
	for i, cfg := range sources {
		wg.Go(func() {
			api[i] = runChecks(ctx, &apiState{p: newAPIProbe(cfg)}, apiChecks)
			if len(sources) > 1 {
				for j := range api[i] {
					api[i][j].Source = cfg.SourceName
				}
			}
		})
	}
	wg.Go(func() { kafka = runChecks(ctx, newKafkaState(sources[0]), kafkaChecks) })
	if reg != nil {
		wg.Go(func() { registered = runChecks(ctx, &registryState{c: reg, cfg: sources[0]}, registryChecks) })
	}
	wg.Wait()
	rep := Report{OK: true, Checks: slices.Concat(slices.Concat(api...), kafka, registered)}
	for _, c := range rep.Checks {
		rep.OK = rep.OK && c.OK
	}
	return rep
}
