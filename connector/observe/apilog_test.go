package observe

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/source"
)

// The credentials line tells the refusals since the line before from the
// refusals since they began, so that a steady rate does not read as a
// stuck counter; an accepted request starts both again.
func TestAPILogCountsRefusalsSinceLastLineAndInTotal(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	l := NewAPILog(slog.New(slog.NewJSONHandler(&buf, nil)), time.Minute, func() time.Time { return now })
	refuse := func(n int) {
		for range n {
			l.Failed(source.KindAuth, errors.New("refused"))
			now = now.Add(10 * time.Second)
		}
	}
	refuse(7)     // lines at 0s (1) and 60s (6 more)
	refuse(6)     // a line at 120s (6 more)
	l.Succeeded() // the end of the refusals, with what was not logged yet
	refuse(1)     // a new run of refusals counts from 1
	type line struct {
		Msg   string `json:"msg"`
		Since int    `json:"refusals_since_last_log"`
		Total int    `json:"refusals_total"`
	}
	var got []line
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var ln line
		if err := dec.Decode(&ln); err != nil {
			t.Fatal(err)
		}
		got = append(got, ln)
	}
	refused, again := apiMessages[source.KindAuth], "api accepts the credentials again"
	want := []line{{refused, 1, 1}, {refused, 6, 7}, {refused, 6, 13}, {again, 0, 13}, {refused, 1, 1}}
	if len(got) != len(want) {
		t.Fatalf("log lines %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
