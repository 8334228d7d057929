package main

import (
	"regexp"
	"strings"
)

// hexRun finds candidate signs: hex digests of at least 32 digits.
var hexRun = regexp.MustCompile(`[0-9A-Fa-f]{32,}`)

// checkSecrets searches every pod's logs and errors and every /metrics
// scrape for the app key and for each sign the simulator was sent. It also
// requires that signs were seen at all, so that the search means something.
func (w *world) checkSecrets() {
	w.t.Helper()
	text := w.logs.String() + "\n" + w.scrapes.String()
	if strings.Contains(text, crashAppKey.Reveal()) {
		w.t.Error("the app key appears in the logs or metrics")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.signs) == 0 {
		w.t.Error("the simulator saw no sign: the secrets check searched for nothing")
	}
	lengths := map[int]bool{}
	for s := range w.signs {
		lengths[len(s)] = true
	}
	leaked := 0
	for _, run := range hexRun.FindAllString(text, -1) {
		for n := range lengths {
			for i := 0; i+n <= len(run); i++ {
				if w.signs[run[i:i+n]] {
					leaked++
				}
			}
		}
	}
	if leaked > 0 {
		w.t.Errorf("%d computed signs appear in the logs or metrics", leaked)
	}
	if w.scrapes.String() == "" {
		w.t.Error("no /metrics scrape was captured")
	}
}
