package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/connector"
	"github.com/callstream/callstream/connector/diff"
	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/internal/syncbuf"
	"github.com/mattn/go-runewidth"
)

// demoSeed fixes the demo's calls, so that a failure here can be replayed;
// its dead letters come from every 10th call being broken, whatever the
// seed.
const demoSeed = "1"

// TestDemo runs `callstream demo` as the README's first command does, with
// the default ports taken: it picks others, prints committed events and a
// dead letter, serves metrics where it says, prints a tail command that
// reads its broker while it runs, and on cancellation (Ctrl-C) stops with
// status 0 and a summary of what it committed.
func TestDemo(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:9090", "127.0.0.1:9092"} {
		if ln, err := net.Listen("tcp", addr); err == nil {
			defer ln.Close() // taken, as a local Prometheus or Kafka would
		}
	}
	out := runDemo(t, func(out string) {
		m := regexp.MustCompile(`metrics (http://[^ ]+/metrics)`).FindStringSubmatch(out)
		if m == nil || strings.Contains(m[1], ":9090/") {
			t.Errorf("the demo's metrics address %v is not a free port; stdout:\n%s", m, out)
		} else if resp, err := http.Get(m[1]); err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %v %v", m[1], resp, err)
		} else {
			resp.Body.Close()
		}
		if strings.Contains(out, "--brokers 127.0.0.1:9092 ") {
			t.Errorf("the demo's broker is on the taken port 9092; stdout:\n%s", out)
		}
	}, "--seed", demoSeed)
	for _, want := range []string{"committed:\n  calls          CREATED ", "  calls.dlq      DEAD_LETTER ",
		"while a demo runs, this reads the topics: callstream tail --brokers 127.0.0.1:"} {
		if !strings.Contains(out, want) {
			t.Errorf("the demo's output lacks %q; it ends:\n%s", want, lastLines(out, 8))
		}
	}
	// A broken call's content is not JSON, nor its message when it failed
	// (the vendor repeats the task status there), which is read first.
	if !regexp.MustCompile(`dead letters by reason: (content|message)_json \d`).MatchString(out) {
		t.Errorf("the demo's output counts no broken content or message; it ends:\n%s", lastLines(out, 8))
	}
}

// TestDemoRegistry runs `callstream demo --registry`: values are framed
// with the ids of an in-process registry, and the tail command it prints
// (with the registry's URL) reads them while the demo runs.
func TestDemoRegistry(t *testing.T) {
	out := runDemo(t, func(string) {}, "--registry", "--seed", demoSeed)
	if !regexp.MustCompile(`schema registry http://127\.0\.0\.1:\d+ \(values framed 00 \+ schema id\)`).MatchString(out) {
		t.Errorf("the demo does not name its registry; stdout:\n%s", out)
	}
}

// runDemo runs cmdDemo with args until it printed three CREATED lines and
// a dead letter, calls running with its output so far, runs the tail
// command it printed, then cancels it and returns its whole output.
func runDemo(t *testing.T, running func(string), args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncbuf.Buffer
	done := make(chan int, 1)
	go func() { done <- cmdDemo(ctx, args, &out, &errOut) }()
	ready := func() bool {
		s := out.String()
		return strings.Count(s, "\nCREATED ") >= 3 && strings.Contains(s, "\nDEAD_LETTER ")
	}
	deadline := time.Now().Add(time.Minute)
	for !ready() && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if !ready() {
		cancel()
		t.Fatalf("the demo printed no 3 CREATED and a DEAD_LETTER in a minute; stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	}
	running(out.String())
	checkDemoTail(t, out.String())
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("demo exit status %d after cancellation, want 0; stderr:\n%s", code, errOut.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("the demo did not stop within a minute of cancellation")
	}
	if !strings.Contains(out.String(), "callstream demo: stopped") {
		t.Errorf("the demo did not say it stopped; stdout ends:\n%s", lastLines(out.String(), 5))
	}
	return out.String()
}

// checkDemoTail runs the tail command that the demo printed, with
// --exit-at-end, and checks that it decodes every record it reads.
func checkDemoTail(t *testing.T, out string) {
	t.Helper()
	m := regexp.MustCompile(`from another terminal while the demo runs: callstream tail (.*)\n`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the demo printed no tail command; stdout:\n%s", out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, lines, errOut := runTail(t, ctx, append(strings.Fields(m[1]), "--exit-at-end")...)
	if code != 0 || strings.Count(lines, "\n") < 4 {
		t.Errorf("callstream tail %s --exit-at-end: exit %d, stderr %q, stdout (head) %.600s", m[1], code, errOut, lines)
	}
	for _, line := range strings.Split(strings.TrimSuffix(lines, "\n"), "\n") {
		var l tailLine
		if err := json.Unmarshal([]byte(line), &l); err != nil || l.Error != "" || l.Value == nil {
			t.Errorf("tail line %.300s: %v %s", line, err, l.Error)
		}
	}
}

// demoCall returns a committed event of a call with the given names.
// changedFrom gives a committed status change its previous status.
func changedFrom(prev int32, c connector.Committed) connector.Committed {
	c.PreviousStatus = &prev
	return c
}

func demoCall(kind event.Kind, topic string, id int64, status int32, send, receive string) connector.Committed {
	return connector.Committed{Topic: topic, Kind: kind.String(), CallID: id, Call: &event.Call{
		ID: id, Status: status, StatusStr: map[int32]string{0: "转换失败", 1: "转换中", 2: "转换成功"}[status],
		SendName: send, ReceiveName: receive, CallType: "微信语音",
		Content: &event.Transcript{Sentences: []event.Sentence{{Text: "您好,这边是售后服务部。"}}},
	}}
}

// TestDemoLines prints events with names of different widths (CJK takes
// two cells a character), an empty name, a name longer than its column, a
// status change and a dead letter, and checks what a person reads.
func TestDemoLines(t *testing.T) {
	var buf bytes.Buffer
	p := newDemoPrinter(&buf)
	p.header()
	p.print(demoCall(event.Created, "calls", 660504168484357, 1, "曾涛", "罗思凯-麦田房产"))
	p.print(demoCall(event.Created, "calls", 660504169183308, 1, "Bob", ""))
	p.print(changedFrom(1, demoCall(event.StatusChanged, "calls", 660504168484357, 2, "曾涛", "罗思凯-麦田房产")))
	p.print(changedFrom(1, demoCall(event.StatusChanged, "calls.failed", 660504169183308, 0, "Bob", "追风少年13912345678901234")))
	p.print(connector.Committed{Topic: "calls.dlq", Kind: diff.KindDeadLetter, CallID: 660504161326257, Reason: "content_json"})
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("got %d lines, want 6:\n%s", len(lines), buf.String())
	}
	tests := []struct {
		line int
		want []string // in order
	}{
		{1, []string{"CREATED", "660504168484357", " 1 ", "转换中", "曾涛", "→ 罗思凯-麦田房产", "微信语音", "您好"}},
		{2, []string{"CREATED", " 1 ", "Bob", "→ - ", "微信语音"}},
		{3, []string{"STATUS_CHANGED", "660504168484357", " 1→2 ", "转换成功"}},
		{4, []string{"STATUS_CHANGED", "calls.failed", " 1→0 ", "转换失败", "→ 追风少年", "…", "微信语音"}},
		{5, []string{"DEAD_LETTER", "calls.dlq", "660504161326257", "reason=content_json", "raw JSON kept in calls.dlq"}},
	}
	for _, tc := range tests {
		rest := lines[tc.line]
		for _, w := range tc.want {
			i := strings.Index(rest, w)
			if i < 0 {
				t.Errorf("line %d %q: want %q (in order %q)", tc.line, lines[tc.line], w, tc.want)
				break
			}
			rest = rest[i+len(w):]
		}
	}
	// The type column starts in the same terminal cell on every event
	// line, and the title row names it there.
	col := -1
	for i, line := range lines[:5] {
		marker := "微信语音"
		if i == 0 {
			marker = "type"
		}
		at := runewidth.StringWidth(line[:strings.Index(line, marker)])
		if col == -1 {
			col = at
		}
		if at != col {
			t.Errorf("line %d %q: the type column starts at cell %d, line 0 at %d", i, line, at, col)
		}
	}
}

func TestDemoSummary(t *testing.T) {
	var buf bytes.Buffer
	p := newDemoPrinter(&buf)
	p.print(demoCall(event.Created, "calls", 1, 1, "a", "b"))
	p.print(demoCall(event.Created, "calls", 2, 2, "a", "b"))
	p.print(demoCall(event.StatusChanged, "calls", 1, 2, "a", "b"))
	p.print(demoCall(event.StatusChanged, "calls.failed", 3, 0, "a", "b"))
	p.print(connector.Committed{Topic: "calls.dlq", Kind: diff.KindDeadLetter, Reason: "content_json"})
	p.print(connector.Committed{Topic: "calls.dlq", Kind: diff.KindDeadLetter, Reason: "record_json"})
	p.print(connector.Committed{Topic: "calls.dlq", Kind: diff.KindDeadLetter, CallID: 4, Reason: "content_json"})
	buf.Reset()
	p.summary()
	want := "committed:\n" +
		"  calls          CREATED 2, STATUS_CHANGED 1\n" +
		"  calls.dlq      DEAD_LETTER 3\n" +
		"  calls.failed   STATUS_CHANGED 1\n" +
		"dead letters by reason: content_json 2, record_json 1\n"
	if buf.String() != want {
		t.Errorf("summary:\n%s\nwant:\n%s", buf.String(), want)
	}
	if !strings.Contains(demoLine(changedFrom(1, demoCall(event.StatusChanged, "calls.failed", 3, 0, "a", "b"))), " 1→0 ") {
		t.Error("a status change does not show its previous status as 1→0")
	}
}
