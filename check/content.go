package check

import (
	"encoding/json"
	"slices"

	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/simulator"
)

// truthSentences returns the texts of the sentences of a converted call of
// the truth, read from the vendor's content JSON with encoding/json (not
// with the connector's decoder, which is what is checked); ok is false when
// the call has no transcript.
func truthSentences(r simulator.Record) (texts []string, ok bool) {
	if r.Status != 2 || r.Content == "" {
		return nil, false
	}
	var tr struct {
		Sentences *[]struct {
			Text string `json:"Text"`
		} `json:"Sentences"`
	}
	if err := json.Unmarshal([]byte(r.Content), &tr); err != nil || tr.Sentences == nil {
		return nil, false
	}
	for _, s := range *tr.Sentences {
		texts = append(texts, s.Text)
	}
	return texts, true
}

// checkTranscript checks that the current-state record of a converted call
// holds the sentences of the truth's transcript: a correction made after
// the call converted has reached it.
func (c *comparer) checkTranscript(got *EventRecord, truth simulator.Record) {
	want, ok := truthSentences(truth)
	if !ok {
		return
	}
	var have []string
	if tr, isTranscript := got.Event.Call.Content.(*event.Transcript); isTranscript {
		for _, s := range tr.Sentences {
			have = append(have, s.Text)
		}
	}
	if !slices.Equal(have, want) {
		c.Lost++
		c.problem("%s: call %d latest transcript is not the truth's (%d sentences, want %d; first %q, want %q)",
			got.Meta, truth.ID, len(have), len(want), first(have), first(want))
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	r := []rune(s[0])
	if len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s[0]
}
