package main

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callstream/callstream/doctor"
	"github.com/callstream/callstream/simulator"
)

// The doctor tests read page 1 twice a moment apart, not 5s.
func init() { doctor.ChangesGap = 100 * time.Millisecond }

// tokenURLs is a vendor that signs each recording URL anew for every
// answer: the url field of every call changes between two reads.
type tokenURLs struct{ n atomic.Int64 }

func (f *tokenURLs) Serve(w http.ResponseWriter, r *http.Request, _ simulator.Request, next http.Handler) {
	rec := &bodyRecorder{header: http.Header{}, status: http.StatusOK}
	next.ServeHTTP(rec, r)
	body := bytes.ReplaceAll(rec.body.Bytes(), []byte(`.mp3"`), fmt.Appendf(nil, `.mp3?token=%d"`, f.n.Add(1)))
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.status)
	_, _ = w.Write(body)
}

// bodyRecorder keeps an answer to rewrite it.
type bodyRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bodyRecorder) Header() http.Header         { return b.header }
func (b *bodyRecorder) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bodyRecorder) WriteHeader(status int)      { b.status = status }

// api.changes names the field that changes between two reads of a call
// whose status does not, with the flag to set; it passes once the field
// is ignored, or with updates off.
func TestDoctorNamesChangingFields(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra []string
		ok    bool
	}{
		{"a token in the url", nil, false},
		{"the url ignored", []string{"--ignore-changes", "url"}, true},
		{"updates off", []string{"--emit-updates=false"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newDoctorWorld(t, func(c *simulator.Config) { c.Faults = &tokenURLs{} })
			code, rep, out := runDoctor(t, w.args(tc.extra...))
			var got *doctor.Result
			for i, c := range rep.Checks {
				if c.Name == doctor.APIChanges {
					got = &rep.Checks[i]
				} else if !c.OK {
					t.Errorf("%s failed: %s", c.Name, c.Detail)
				}
			}
			if got == nil {
				t.Fatalf("no %s check:\n%s", doctor.APIChanges, out)
			}
			if !strings.Contains(got.Detail, "url ") || !strings.Contains(got.Detail, "fields changed with the status unchanged") {
				t.Errorf("detail %q: want the url named", got.Detail)
			}
			if got.OK != tc.ok || (code == 0) != tc.ok {
				t.Errorf("ok %v, exit %d; want ok %v", got.OK, code, tc.ok)
			}
			if !tc.ok && !strings.Contains(got.Hint, "--ignore-changes url") {
				t.Errorf("hint %q: want --ignore-changes url", got.Hint)
			}
		})
	}
}
