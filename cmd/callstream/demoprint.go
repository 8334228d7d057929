package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/callstream/callstream/connector"
	"github.com/callstream/callstream/connector/event"
	"github.com/mattn/go-runewidth"
)

// The demo's columns, in terminal cells. Names and texts are Chinese, two
// cells a character, so widths are measured with runewidth, never in bytes
// or runes; what is longer is cut with an ellipsis.
var demoColumns = []struct {
	title string
	width int
}{
	{"kind", 14}, {"topic", 12}, {"call id", 15}, {"status", 6}, {"", 8},
	{"from", 8}, {"", 1}, {"to", 20}, {"type", 8}, {"first sentence / task status", 0},
}

// noName stands for an empty name, so that an empty column does not look
// like a misaligned one.
const noName = "-"

// demoPrinter renders committed events as aligned lines for a person to
// read, and counts them for the summary printed on stop. It is safe for
// concurrent use.
type demoPrinter struct {
	mu      sync.Mutex
	w       io.Writer
	events  map[string]map[string]int // topic → kind → records
	reasons map[string]int            // dead-letter reason → records
}

func newDemoPrinter(w io.Writer) *demoPrinter {
	return &demoPrinter{w: w, events: make(map[string]map[string]int), reasons: make(map[string]int)}
}

// header prints the column titles.
func (p *demoPrinter) header() {
	cells := make([]string, len(demoColumns))
	for i, c := range demoColumns {
		cells[i] = c.title
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.w, demoRow(cells))
}

// print prints one committed record and counts it.
func (p *demoPrinter) print(c connector.Committed) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.events[c.Topic] == nil {
		p.events[c.Topic] = make(map[string]int)
	}
	p.events[c.Topic][c.Kind]++
	if c.Call == nil {
		p.reasons[c.Reason]++
		fmt.Fprintln(p.w, demoDeadLine(c))
		return
	}
	fmt.Fprintln(p.w, demoLine(c))
}

// demoLine renders an event; a status change shows the status before it.
func demoLine(c connector.Committed) string {
	call := c.Call
	status := strconv.Itoa(int(call.Status))
	if c.PreviousStatus != nil {
		status = strconv.Itoa(int(*c.PreviousStatus)) + "→" + status
	}
	return demoRow([]string{c.Kind, c.Topic, strconv.FormatInt(call.ID, 10), status, call.StatusStr,
		orNoName(call.SendName), "→", orNoName(call.ReceiveName), call.CallType, demoText(call)})
}

// demoDeadLine renders a dead letter: the record could not be read, so
// there is no call to show, only its id when readable and the reason.
func demoDeadLine(c connector.Committed) string {
	id := "?"
	if c.CallID != 0 {
		id = strconv.FormatInt(c.CallID, 10)
	}
	return demoRow([]string{c.Kind, c.Topic, id, "reason=" + c.Reason + ", its raw JSON kept in " + c.Topic})
}

// demoText is the first sentence of a transcript or the task status of a
// failed conversion.
func demoText(call *event.Call) string {
	switch v := call.Content.(type) {
	case *event.Transcript:
		if len(v.Sentences) > 0 {
			return v.Sentences[0].Text
		}
	case *event.TaskStatus:
		return v.StatusText
	}
	return ""
}

func orNoName(s string) string {
	if strings.TrimSpace(s) == "" {
		return noName
	}
	return s
}

// demoRow pads (or cuts) each cell to its column's display width; the last
// cell is as wide as its text.
func demoRow(cells []string) string {
	var b strings.Builder
	for i, cell := range cells {
		w := demoColumns[i].width
		if i == len(cells)-1 {
			b.WriteString(cell)
			continue
		}
		b.WriteString(runewidth.FillRight(runewidth.Truncate(cell, w, "…"), w))
		b.WriteByte(' ')
	}
	return strings.TrimRight(b.String(), " ")
}

// summary prints what the demo committed: records by topic and kind, and
// dead letters by reason.
func (p *demoPrinter) summary() {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.w, "committed:")
	if len(p.events) == 0 {
		fmt.Fprintln(p.w, "  nothing")
	}
	for _, topic := range slices.Sorted(maps.Keys(p.events)) {
		kinds := p.events[topic]
		parts := make([]string, 0, len(kinds))
		for _, kind := range slices.Sorted(maps.Keys(kinds)) {
			parts = append(parts, fmt.Sprintf("%s %d", kind, kinds[kind]))
		}
		fmt.Fprintf(p.w, "  %s %s\n", runewidth.FillRight(topic, 14), strings.Join(parts, ", "))
	}
	if len(p.reasons) > 0 {
		parts := make([]string, 0, len(p.reasons))
		for _, r := range slices.Sorted(maps.Keys(p.reasons)) {
			parts = append(parts, fmt.Sprintf("%s %d", r, p.reasons[r]))
		}
		fmt.Fprintf(p.w, "dead letters by reason: %s\n", strings.Join(parts, ", "))
	}
}
