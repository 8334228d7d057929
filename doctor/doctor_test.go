package doctor

import (
	"context"
	"slices"
	"testing"
)

// The skips follow from needs alone: a check whose need did not let it go
// on is skipped naming the check that failed first, through a chain of
// skips; a failed check that lets the others go on skips nothing.
func TestRunChecksDerivesSkips(t *testing.T) {
	type state struct{ ran []string }
	step := func(name string, ok, goOn bool, needs ...string) check[state] {
		return check[state]{name, needs, func(_ context.Context, s *state) (Result, bool) {
			s.ran = append(s.ran, name)
			if ok {
				return pass(name, "fine"), goOn
			}
			return fail(name, "wrong", "fix it"), goOn
		}}
	}
	for _, tc := range []struct {
		name    string
		checks  []check[state]
		ran     []string
		skipped map[string]string // check → the prerequisite it names
	}{
		{"all pass", []check[state]{step("a", true, true), step("b", true, true, "a"), step("c", true, true, "b")},
			[]string{"a", "b", "c"}, map[string]string{}},
		{"the first fails", []check[state]{step("a", false, false), step("b", true, true, "a"), step("c", true, true, "b"), step("d", true, true)},
			[]string{"a", "d"}, map[string]string{"b": "a", "c": "a"}},
		{"a failure that lets the rest go on", []check[state]{step("a", true, true), step("b", false, true, "a"), step("c", true, true, "b")},
			[]string{"a", "b", "c"}, map[string]string{}},
		{"the second of two needs fails", []check[state]{step("a", true, true), step("b", false, false, "a"), step("c", true, true, "a", "b")},
			[]string{"a", "b"}, map[string]string{"c": "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s state
			out := runChecks(t.Context(), &s, tc.checks)
			if !slices.Equal(s.ran, tc.ran) {
				t.Errorf("ran %q, want %q", s.ran, tc.ran)
			}
			if len(out) != len(tc.checks) {
				t.Fatalf("%d results for %d checks", len(out), len(tc.checks))
			}
			for i, r := range out {
				if r.Name != tc.checks[i].name {
					t.Errorf("result %d is %s, want %s: results keep the checks' order", i, r.Name, tc.checks[i].name)
				}
				want, skip := tc.skipped[r.Name]
				if r.Skipped != skip || (skip && (r.OK || r.Detail != "skipped: "+want+" failed")) {
					t.Errorf("%s: skipped %v, ok %v, detail %q; want skipped %v naming %q", r.Name, r.Skipped, r.OK, r.Detail, skip, want)
				}
			}
		})
	}
}

// Every check of every group is named once, and needs only checks before
// it in its group.
func TestCheckListsAreOrdered(t *testing.T) {
	seen := map[string]bool{}
	order := func(names []string, needs [][]string) {
		before := map[string]bool{}
		for i, n := range names {
			if seen[n] {
				t.Errorf("%s is listed twice", n)
			}
			seen[n] = true
			for _, need := range needs[i] {
				if !before[need] {
					t.Errorf("%s needs %s, which does not come before it in its group", n, need)
				}
			}
			before[n] = true
		}
	}
	lists := func() (names [][]string, needs [][][]string) {
		var n1, n2, n3 []string
		var d1, d2, d3 [][]string
		for _, c := range apiChecks {
			n1, d1 = append(n1, c.name), append(d1, c.needs)
		}
		for _, c := range kafkaChecks {
			n2, d2 = append(n2, c.name), append(d2, c.needs)
		}
		for _, c := range registryChecks {
			n3, d3 = append(n3, c.name), append(d3, c.needs)
		}
		return [][]string{n1, n2, n3}, [][][]string{d1, d2, d3}
	}
	names, needs := lists()
	for i := range names {
		order(names[i], needs[i])
	}
	for _, n := range []string{APIReach, APIClock, APIAuth, APIType, APIPageSize, APIDecode, APIChanges, KafkaReach, KafkaTransactions, KafkaTopics, Registry} {
		if !seen[n] {
			t.Errorf("check %s is in no list", n)
		}
	}
}
