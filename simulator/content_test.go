package simulator

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// sentences returns the texts of a transcript's JSON.
func sentences(t *testing.T, content string) []string {
	t.Helper()
	var tr struct {
		Sentences []struct{ Text string }
	}
	if err := json.Unmarshal([]byte(content), &tr); err != nil {
		t.Fatalf("content is not a transcript: %v", err)
	}
	var out []string
	for _, s := range tr.Sentences {
		out = append(out, s.Text)
	}
	return out
}

// Every Nth call's transcript, once converted, is of the size asked, is a
// transcript still, compresses badly, and is listed by GET /_sim/large.
func TestLargeTranscripts(t *testing.T) {
	fs, err := ParseFaults("large-transcript=4:60000")
	if err != nil {
		t.Fatal(err)
	}
	s, clock := newSim(t, func(c *Config) { c.FaultSpec = fs; c.FailRatio = 0 })
	clock.Advance(time.Minute) // every call converted
	var want []int64
	for i, r := range s.Records() {
		large := (i+1)%4 == 0
		if !large {
			if len(r.Content) > 5000 {
				t.Errorf("call %d (index %d): %d bytes of content, not large", r.ID, i, len(r.Content))
			}
			continue
		}
		want = append(want, r.ID)
		if len(r.Content) < 60000 || len(r.Content) > 66000 || r.Status != statusConverted {
			t.Errorf("call %d: %d bytes of content, status %d; want about 60000, converted", r.ID, len(r.Content), r.Status)
		}
		if n := len(sentences(t, r.Content)); n < 50 {
			t.Errorf("call %d: %d sentences", r.ID, n)
		}
		var z bytes.Buffer
		w, _ := flate.NewWriter(&z, flate.BestCompression)
		_, _ = w.Write([]byte(r.Content))
		_ = w.Close()
		if ratio := float64(z.Len()) / float64(len(r.Content)); ratio < 0.5 {
			t.Errorf("call %d: the transcript deflates to %.2f of its size, want it to compress badly", r.ID, ratio)
		}
	}
	slices.Sort(want)
	if got := s.Large(); !slices.Equal(got, want) || len(got) == 0 {
		t.Errorf("Large() = %v, want %v", got, want)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/_sim/large", nil))
	var body struct{ IDs []int64 }
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || !slices.Equal(body.IDs, want) {
		t.Errorf("GET /_sim/large = %s (%v), want %v", rec.Body.Bytes(), err, want)
	}
	if got := s.FaultCounts()["large-transcript"]; got != int64(len(want)) {
		t.Errorf("large-transcript count %d, want %d", got, len(want))
	}
}

// A corrected call's transcript changes DUR after its conversion, its
// status unchanged, and the truth and the listing follow.
func TestCorrectedTranscripts(t *testing.T) {
	fs, err := ParseFaults("corrected=0.5:20s")
	if err != nil {
		t.Fatal(err)
	}
	s, clock := newSim(t, func(c *Config) {
		c.FaultSpec = fs
		c.FailRatio, c.History, c.Calls, c.Rate = 0, 0, 40, 10
	})
	clock.Advance(5*time.Second + 30*time.Second) // all arrived, all converted, none corrected
	before := s.Records()
	if len(before) != 40 {
		t.Fatalf("%d calls, want 40", len(before))
	}
	clock.Advance(30 * time.Second) // every correction due
	after := s.Records()
	listed, _ := readAll(t, s.Handler(), clock.Now().Add(-time.Hour), clock.Now(), 100)
	byID := map[int64]Record{}
	for _, r := range listed {
		byID[r.ID] = r
	}
	corrected := 0
	for i, b := range before {
		a := after[i]
		if b.Status != statusConverted || a.Status != statusConverted {
			t.Fatalf("call %d: status %d then %d, want converted both times", b.ID, b.Status, a.Status)
		}
		if byID[a.ID].Content != a.Content {
			t.Errorf("call %d: the listing's content is not the truth's", a.ID)
		}
		if a.Content == b.Content {
			continue
		}
		corrected++
		bs, as := sentences(t, b.Content), sentences(t, a.Content)
		if len(as) != len(bs) || as[0] != bs[0]+correctionMark || !slices.Equal(as[1:], bs[1:]) {
			t.Errorf("call %d: corrected %q from %q", a.ID, as, bs)
		}
	}
	if corrected < 10 || corrected > 30 {
		t.Errorf("%d of 40 calls corrected, want about half", corrected)
	}
	if got := s.FaultCounts()["corrected"]; got != int64(corrected) {
		t.Errorf("corrected count %d, want %d", got, corrected)
	}
}
