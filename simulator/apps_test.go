package simulator

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/callstream/callstream/secret"
)

// Each app of Apps answers its own calls, under its own credentials, and
// /_sim/records?app-id=ID is the truth of that app alone.
func TestAppsRouteByAppID(t *testing.T) {
	clock := newFakeClock()
	cfg := func(id string, key secret.String, seed int64, history int) Config {
		return Config{AppID: id, AppKey: key, Seed: seed, History: history, HistorySpan: time.Hour,
			ConvertAfter: 30 * time.Second, Clock: clock.Now}
	}
	apps, err := NewApps([]Config{cfg(testAppID, testKey, 7, 40), cfg("other-app", "other-key", 8, 25)})
	if err != nil {
		t.Fatal(err)
	}
	h := apps.Handler()

	// The test helpers sign as testAppID: its calls, and only its.
	from, to := whole(clock)
	got, _ := readAll(t, h, from, to, 100)
	if len(got) != 40 {
		t.Errorf("app %s listed %d calls, want 40", testAppID, len(got))
	}
	for _, tc := range []struct {
		query    string
		wantCode int
		wantN    int
	}{
		{"?app-id=" + testAppID, http.StatusOK, 40},
		{"?app-id=other-app", http.StatusOK, 25},
		{"?app-id=nobody", http.StatusNotFound, 0},
		{"", http.StatusNotFound, 0},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/_sim/records"+tc.query, nil))
		if rec.Code != tc.wantCode {
			t.Errorf("GET /_sim/records%s: status %d, want %d", tc.query, rec.Code, tc.wantCode)
			continue
		}
		if tc.wantCode != http.StatusOK {
			continue
		}
		var truth struct{ Records []Record }
		if err := json.Unmarshal(rec.Body.Bytes(), &truth); err != nil {
			t.Fatal(err)
		}
		if len(truth.Records) != tc.wantN {
			t.Errorf("GET /_sim/records%s: %d records, want %d", tc.query, len(truth.Records), tc.wantN)
		}
	}

	// A request signed for one app but naming another is refused.
	req := signedRequest(t, pageBody(from, to, 1, 10), "1742536800000")
	req.Header.Set("appId", "other-app")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var env struct{ Code int }
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Code != codeSignInvalid {
		t.Errorf("request with another app's id: code %d (%v), want %d", env.Code, err, codeSignInvalid)
	}

	if _, err := NewApps([]Config{cfg("x", "k", 1, 1), cfg("x", "k", 2, 1)}); err == nil {
		t.Error("NewApps accepted one app id twice")
	}
}

// With one app, /_sim/records needs no app-id: single-app callers keep
// working.
func TestAppsOfOne(t *testing.T) {
	clock := newFakeClock()
	apps, err := NewApps([]Config{{AppID: testAppID, AppKey: testKey, Seed: 3, History: 9, HistorySpan: time.Hour, Clock: clock.Now}})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	apps.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/_sim/records", nil))
	var truth struct{ Records []Record }
	if err := json.Unmarshal(rec.Body.Bytes(), &truth); err != nil || len(truth.Records) != 9 {
		t.Errorf("GET /_sim/records: %d records (%v), want 9", len(truth.Records), err)
	}
}
