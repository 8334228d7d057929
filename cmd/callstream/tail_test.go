package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/event"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// tailCluster starts an in-process Kafka holding, in the default output
// topics, a committed transaction with two events and a dead letter, then
// an aborted one. It returns the seed address.
func tailCluster(t *testing.T) string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, defaultTailTopics()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.TransactionalID("tail-test"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	prev := int32(1)
	enc := event.NewEncoder()
	txns := []struct {
		end     kgo.TransactionEndTry
		records []*kgo.Record
	}{
		{kgo.TryCommit, []*kgo.Record{
			tailEvent(t, enc, "calls", &event.Event{EventID: "e1", Kind: event.Created, Call: &event.Call{ID: 11, Status: 1,
				GmtCreateTime: time.Date(2025, 3, 25, 6, 26, 23, 0, time.UTC),
				Content:       &event.Transcript{Sentences: []event.Sentence{{EndTimeMs: 5, Text: "<您好>"}}}}}),
			tailEvent(t, enc, "calls.failed", &event.Event{EventID: "e2", Kind: event.StatusChanged, PreviousStatus: &prev,
				Call: &event.Call{ID: 12, Status: 0, Content: &event.TaskStatus{StatusCode: 21050003},
					Extra: map[string]string{"userId": `"u-7"`}}}),
			tailDeadLetter(t, enc, &event.DeadLetter{Reason: "content_json", Raw: "{"}),
		}},
		{kgo.TryAbort, []*kgo.Record{
			tailEvent(t, enc, "calls", &event.Event{EventID: "aborted", Kind: event.Created, Call: &event.Call{ID: 13}}),
		}},
	}
	for _, txn := range txns {
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if err := cl.ProduceSync(ctx, txn.records...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := cl.EndTransaction(ctx, txn.end); err != nil {
			t.Fatal(err)
		}
	}
	return c.ListenAddrs()[0]
}

func tailEvent(t *testing.T, enc *event.Encoder, topic string, e *event.Event) *kgo.Record {
	t.Helper()
	value, err := enc.AppendEvent(nil, e)
	if err != nil {
		t.Fatal(err)
	}
	return &kgo.Record{Topic: topic, Key: strconv.AppendInt(nil, e.Call.ID, 10), Value: value}
}

func tailDeadLetter(t *testing.T, enc *event.Encoder, d *event.DeadLetter) *kgo.Record {
	t.Helper()
	value, err := enc.AppendDeadLetter(nil, d)
	if err != nil {
		t.Fatal(err)
	}
	return &kgo.Record{Topic: "calls.dlq", Value: value}
}

func runTail(t *testing.T, ctx context.Context, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = cmdTail(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestTailPrintsCommitted(t *testing.T) {
	addr := tailCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, out, errOut := runTail(t, ctx, "--brokers", addr, "--from-beginning", "--exit-at-end")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	want := map[string]string{
		"calls": `{"topic":"calls","partition":0,"offset":0,"key":"11","value":{"eventId":"e1","kind":"CREATED","previousStatus":null,` +
			`"call":{"id":11,"taskId":"","corpId":"","type":"","msgId":"","preCost":0,"cost":0,"status":1,"statusStr":"","method":"",` +
			`"salesId":0,"salesName":"","gmtCreateTime":"2025-03-25T06:26:23Z","msgTime":"0001-01-01T00:00:00Z","departments":null,` +
			`"sendName":"","receiveName":"","callType":"","url":"","message":null,` +
			`"content":{"sentences":[{"beginTimeMs":0,"endTimeMs":5,"text":"<您好>","channelId":0,"extra":{}}],"extra":{}},"extra":{}},` +
			`"source":{"app":"","type":"","tier":"","windowStart":"0001-01-01T00:00:00Z","windowEnd":"0001-01-01T00:00:00Z",` +
			`"observedAt":"0001-01-01T00:00:00Z","connectorVersion":"","name":""}}}`,
	}
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3 (the aborted record must not show):\n%s", len(lines), out)
	}
	for _, line := range lines {
		var l struct {
			Topic string
			Key   *string
			Value map[string]any
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		switch {
		case want[l.Topic] != "" && line != want[l.Topic]:
			t.Errorf("line:\n got %s\nwant %s", line, want[l.Topic])
		case l.Topic == "calls.failed" && (l.Value["kind"] != "STATUS_CHANGED" || l.Value["previousStatus"] != 1.0):
			t.Errorf("failed line %s", line)
		case l.Topic == "calls.failed" && !strings.Contains(line, `"extra":{"userId":"\"u-7\""}`):
			t.Errorf("failed line %s: extra is not the map sent", line)
		case l.Topic == "calls.dlq" && (l.Key != nil || l.Value["reason"] != "content_json"):
			t.Errorf("dead letter line %s", line)
		}
	}
}

func TestTailOneTopic(t *testing.T) {
	addr := tailCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, out, errOut := runTail(t, ctx, "--brokers", addr, "--topic", "calls.dlq", "--from-beginning", "--exit-at-end")
	if code != 0 || strings.Count(out, "\n") != 1 || !strings.Contains(out, `"topic":"calls.dlq"`) {
		t.Errorf("exit %d, stdout %q, stderr %q; want the one dead letter", code, out, errOut)
	}
}

func TestTailFromEndExitsAtOnce(t *testing.T) {
	addr := tailCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if code, out, errOut := runTail(t, ctx, "--brokers", addr, "--exit-at-end"); code != 0 || out != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 0 and nothing", code, out, errOut)
	}
}

// TestTailStopsOnSignal runs tail without --exit-at-end: it follows the
// topics until its context ends, as SIGINT and SIGTERM end it, then exits
// 0. The context ends once the third line is out.
func TestTailStopsOnSignal(t *testing.T) {
	addr := tailCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := &cancelAfter{lines: 3, cancel: cancel}
	var errOut bytes.Buffer
	code := cmdTail(ctx, []string{"--brokers", addr, "--from-beginning"}, out, &errOut)
	if code != 0 || strings.Count(out.String(), "\n") != 3 || !errors.Is(ctx.Err(), context.Canceled) {
		t.Errorf("exit %d, stdout %q, stderr %q, context %v; want 0 and 3 lines, then cancelled", code, out, &errOut, ctx.Err())
	}
}

// cancelAfter is a writer that calls cancel once it holds lines lines.
type cancelAfter struct {
	bytes.Buffer
	lines  int
	cancel func()
}

func (w *cancelAfter) Write(p []byte) (int, error) {
	n, err := w.Buffer.Write(p)
	if strings.Count(w.String(), "\n") >= w.lines {
		w.cancel()
	}
	return n, err
}

func TestTailUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string // in stderr; for -h, in stdout
	}{
		{"unknown flag", []string{"--brokers", "x:1", "--bogus"}, 2, "-bogus"},
		{"no brokers", nil, 2, "--brokers"},
		{"empty brokers", []string{"--brokers", " , "}, 2, "--brokers"},
		{"empty topic", []string{"--brokers", "x:1", "--topic", ""}, 2, "-topic"},
		{"bad bool", []string{"--brokers", "x:1", "--exit-at-end=maybe"}, 2, "-exit-at-end"},
		{"argument", []string{"--brokers", "x:1", "calls"}, 2, `"calls"`},
		{"help", []string{"-h"}, 0, "-from-beginning"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runTail(t, context.Background(), tc.args...)
			text := errOut
			if tc.code == 0 {
				text = out
			} else if strings.Count(errOut, "\n") != 1 {
				t.Errorf("stderr %q is not one line", errOut)
			}
			if code != tc.code || !strings.Contains(text, tc.want) {
				t.Errorf("cmdTail(%q) = %d, stdout %q, stderr %q; want %d and %q", tc.args, code, out, errOut, tc.code, tc.want)
			}
		})
	}
}
