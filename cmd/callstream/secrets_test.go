package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callstream/callstream/simulator"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/sr/srfake"
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
	leaked := leakedSigns(text, w.signs)
	if leaked > 0 {
		w.t.Errorf("%d computed signs appear in the logs or metrics", leaked)
	}
	if w.scrapes.String() == "" {
		w.t.Error("no /metrics scrape was captured")
	}
}

// leakedSigns counts the signs of the set that appear in text, alone or
// inside a longer run of hex digits.
func leakedSigns(text string, signs map[string]bool) int {
	lengths := map[int]bool{}
	for s := range signs {
		lengths[len(s)] = true
	}
	leaked := 0
	for _, run := range hexRun.FindAllString(text, -1) {
		for n := range lengths {
			for i := 0; i+n <= len(run); i++ {
				if signs[run[i:i+n]] {
					leaked++
				}
			}
		}
	}
	return leaked
}

// signRecorder serves the simulator and records every sign it is sent.
// Refusals echo the request's app key and sign in their message, as a
// careless vendor might, so that doctor's scrubbing is tested too.
type signRecorder struct {
	next  http.Handler
	mu    sync.Mutex
	signs map[string]bool
}

func (h *signRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sign := r.Header.Get("sign")
	h.mu.Lock()
	h.signs[sign] = true
	h.mu.Unlock()
	rec := httptest.NewRecorder()
	h.next.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	if bytes.Contains(body, []byte(`"code":401`)) {
		msg, _ := json.Marshal("sign " + sign + " invalid for appKey " + r.Header.Get("appKey"))
		body = []byte(`{"code":401,"message":` + string(msg) + `,"data":null}`)
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rec.Code)
	w.Write(body)
}

// Doctor's output, text and json, holds neither the app key nor any sign
// it computed, even when the server echoes them back.
func TestSecretsDoctorOutput(t *testing.T) {
	sim, err := simulator.New(simulator.Config{AppID: doctorAppID, AppKey: doctorAppKey, Seed: 3, History: 10,
		HistorySpan: time.Hour, Sign: "hmac-sha256:timestamp+appId:upper:s"})
	if err != nil {
		t.Fatal(err)
	}
	h := &signRecorder{next: sim.Handler(), signs: map[string]bool{}}
	api := httptest.NewServer(h)
	defer api.Close()
	w := &doctorWorld{api: api}
	if w.cluster, err = kfake.NewCluster(kfake.NumBrokers(1)); err != nil {
		t.Fatal(err)
	}
	defer w.cluster.Close()
	w.reg = srfake.New()
	defer w.reg.Close()
	for _, format := range []string{"text", "json"} {
		// The wrong key holds the right one, so that it is searched for too.
		for _, extra := range [][]string{nil, {"--app-key", "wrong-" + doctorAppKey.Reveal()}} {
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			code := cmdDoctor(ctx, append(w.args(extra...), "--format", format), &stdout, &stderr)
			cancel()
			out := stdout.String() + stderr.String()
			if code != 1 || !strings.Contains(out, "<secret>") {
				t.Fatalf("doctor --format %s %q: exit %d, want 1 and the echoed secrets scrubbed; output:\n%s", format, extra, code, out)
			}
			if strings.Contains(out, doctorAppKey.Reveal()) {
				t.Errorf("doctor --format %s %q: the app key appears in the output:\n%s", format, extra, out)
			}
			h.mu.Lock()
			n, leaked := len(h.signs), leakedSigns(out, h.signs)
			h.mu.Unlock()
			if n < 2 {
				t.Fatalf("the simulator saw %d signs: the search means nothing", n)
			}
			if leaked > 0 {
				t.Errorf("doctor --format %s %q: %d signs appear in the output:\n%s", format, extra, leaked, out)
			}
		}
	}
}
