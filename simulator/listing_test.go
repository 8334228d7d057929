package simulator

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseListingFaults(t *testing.T) {
	const all = "count-plus-one=0.3,unstable-order=0.1,unstable-windows=0.2,page-cap=40"
	f, err := ParseFaults(all)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.String(); got != all {
		t.Errorf("String() = %q, want %q", got, all)
	}
	for spec, want := range map[string]string{
		"page-cap=0":         "page size of at least 1",
		"page-cap=x":         "page size of at least 1",
		"count-plus-one=2":   "not a share",
		"unstable-order=-1":  "not a share",
		"unstable-windows=x": "not a share",
	} {
		if _, err := ParseFaults(spec); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseFaults(%q) = %v, want an error with %q", spec, err, want)
		}
	}
}

// ids returns the ids of recs in order.
func ids(recs []Record) []int64 {
	out := make([]int64, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

// truthIDs returns the ids of the truth newest first, as the list pages them.
func truthIDs(s *Simulator) []int64 {
	out := ids(s.Records())
	slices.Reverse(out)
	return out
}

// Every read of a count-plus-one window says one call more than it lists;
// the others say what they list; the truth is unaffected.
func TestCountPlusOne(t *testing.T) {
	fs, _ := ParseFaults("count-plus-one=0.5")
	s, clock := newSim(t, func(c *Config) { c.FaultSpec = fs })
	plain, _ := newSim(t, nil)
	if !slices.Equal(ids(s.Records()), ids(plain.Records())) {
		t.Fatal("the fault changed the truth")
	}
	base := clock.Now().Add(-time.Hour)
	var spoiled, fine int
	for i := range 20 {
		from, to := base.Add(time.Duration(i)*3*time.Minute), base.Add(time.Duration(i+1)*3*time.Minute-time.Second)
		var counts []int
		for range 3 {
			a := ask(t, s.Handler(), pageBody(from, to, 1, 100))
			if n := len(a.Data.Result); a.Data.TotalCount != n && a.Data.TotalCount != n+1 {
				t.Fatalf("window %d: totalCount %d for %d calls listed", i, a.Data.TotalCount, n)
			}
			counts = append(counts, a.Data.TotalCount-len(a.Data.Result))
		}
		if counts[0] != counts[1] || counts[1] != counts[2] {
			t.Fatalf("window %d: reads disagree on the fault: %v", i, counts)
		}
		if counts[0] == 1 {
			spoiled++
		} else {
			fine++
		}
	}
	if spoiled == 0 || fine == 0 {
		t.Errorf("%d windows spoiled, %d fine at a share of 0.5", spoiled, fine)
	}
	if s.FaultCounts()[faultCountPlusOne] != int64(3*spoiled) {
		t.Errorf("FaultCounts()[count-plus-one] = %d, want %d", s.FaultCounts()[faultCountPlusOne], 3*spoiled)
	}
}

// An unstable window lists, on every read, each page's last call replaced
// by the next page's first: one call twice, one not at all; the last page
// is whole.
func TestUnstableWindows(t *testing.T) {
	fs, _ := ParseFaults("unstable-windows=1")
	s, clock := newSim(t, func(c *Config) { c.FaultSpec = fs })
	from, to := whole(clock)
	truth := truthIDs(s)
	for range 2 {
		got, pages := readAll(t, s.Handler(), from, to, 10)
		if pages != 10 || len(got) != len(truth) {
			t.Fatalf("read %d calls in %d pages, want %d in 10", len(got), pages, len(truth))
		}
		for p := 0; p < pages; p++ {
			lo, hi := p*10, min(p*10+10, len(truth))
			want := slices.Clone(truth[lo:hi])
			if p < pages-1 {
				want[len(want)-1] = truth[hi]
			}
			if g := ids(got[lo:hi]); !slices.Equal(g, want) {
				t.Fatalf("page %d lists %v, want %v", p+1, g, want)
			}
		}
	}
	// A window of one page has no boundary to spoil.
	if got, _ := readAll(t, s.Handler(), from, to, 100); !slices.Equal(ids(got), truth) {
		t.Errorf("one page of the window lists %d calls, not the truth's %d", len(got), len(truth))
	}
	if s.FaultCounts()[faultUnstableWindows] != 18 {
		t.Errorf("FaultCounts()[unstable-windows] = %d, want 18 (9 boundaries, 2 reads)", s.FaultCounts()[faultUnstableWindows])
	}
}

// A share of requests meets an unstable order, drawn from the seed: some
// reads of a window are whole, some are not.
func TestUnstableOrder(t *testing.T) {
	fs, _ := ParseFaults("unstable-order=0.3")
	s, clock := newSim(t, func(c *Config) { c.FaultSpec = fs })
	from, to := whole(clock)
	truth := truthIDs(s)
	var whole, spoiled int
	for range 20 {
		got, _ := readAll(t, s.Handler(), from, to, 40) // 2 page boundaries
		if slices.Equal(ids(got), truth) {
			whole++
		} else {
			spoiled++
		}
	}
	if whole == 0 || spoiled == 0 {
		t.Errorf("%d reads whole, %d spoiled at a share of 0.3", whole, spoiled)
	}
	if s.FaultCounts()[faultUnstableOrder] == 0 {
		t.Error("no unstable order counted")
	}
}

// A silent page cap lists at most N calls a page while it echoes the size
// asked and counts pages by it, each page starting where the size asked
// puts it; paged by the cap, the window is whole.
func TestSilentPageCap(t *testing.T) {
	fs, _ := ParseFaults("page-cap=4")
	s, clock := newSim(t, func(c *Config) { c.FaultSpec = fs })
	from, to := whole(clock)
	truth := truthIDs(s)
	a := ask(t, s.Handler(), pageBody(from, to, 2, 10))
	if a.Data.PageSize != 10 || a.Data.TotalPage != 10 || a.Data.TotalCount != 95 {
		t.Errorf("page 2 says pageSize %d, totalPage %d, totalCount %d; want 10, 10, 95", a.Data.PageSize, a.Data.TotalPage, a.Data.TotalCount)
	}
	if got := ids(a.Data.Result); !slices.Equal(got, truth[10:14]) {
		t.Errorf("page 2 at size 10 lists %v, want %v", got, truth[10:14])
	}
	if got, pages := readAll(t, s.Handler(), from, to, 4); pages != 24 || !slices.Equal(ids(got), truth) {
		t.Errorf("paged by the cap: %d calls in %d pages, want the truth's %d in 24", len(got), pages, len(truth))
	}
	if s.FaultCounts()[faultPageCap] != 1 {
		t.Errorf("FaultCounts()[page-cap] = %d, want 1", s.FaultCounts()[faultPageCap])
	}
}
