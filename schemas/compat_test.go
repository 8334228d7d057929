package schemas

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCompatibility(t *testing.T) {
	added := strings.Replace(pointSchema, `"default":null}]}`,
		`"default":null},{"name":"y","type":"long","default":7}]}`, 1)
	addedNoDefault := strings.Replace(pointSchema, `"default":null}]}`,
		`"default":null},{"name":"y","type":"long"}]}`, 1)
	tests := []struct {
		name           string
		writer, reader string
		ok             bool
	}{
		{"same", pointSchema, pointSchema, true},
		{"reader adds a field with a default", pointSchema, added, true},
		{"reader drops a field", added, pointSchema, true},
		{"reader adds a field without default", pointSchema, addedNoDefault, false},
		{"embedded call event with itself", CallEvent().Text(), CallEvent().Text(), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, r := mustParse(t, tc.writer), mustParse(t, tc.reader)
			err := CheckCompatibility(w, r)
			if (err == nil) != tc.ok {
				t.Errorf("CheckCompatibility = %v, want ok=%v", err, tc.ok)
			}
			_, err = Resolve(w, r)
			if (err == nil) != tc.ok {
				t.Errorf("Resolve = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestResolveDecodesOldData(t *testing.T) {
	w := mustParse(t, pointSchema)
	r := mustParse(t, strings.Replace(pointSchema, `"default":null}]}`,
		`"default":null},{"name":"y","type":"long","default":7}]}`, 1))
	data, err := w.Append(nil, &point{X: 5})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Resolve(w, r)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		point
		Y int64 `avro:"y"`
	}
	if err := res.Decode(data, &got); err != nil {
		t.Fatal(err)
	}
	if got.X != 5 || got.Y != 7 {
		t.Errorf("decoded x=%d y=%d, want 5 and the default 7", got.X, got.Y)
	}
	if same, err := Resolve(r, r); err != nil || same != r {
		t.Errorf("Resolve(r, r) = %p, %v; want r itself", same, err)
	}
}

// forwardBreaks are the released versions whose readers cannot read what
// the current schema writes, and what the check must name: the schemas
// before UPDATED have an EventKind without that symbol and without a
// default, so a reader holding one refuses the current writer schema
// (docs/schema-evolution.md says what such a reader does).
var forwardBreaks = map[string]string{
	"call_event.v1.avsc": `writer enum symbol "UPDATED" not in reader and reader has no default`,
	"call_event.v2.avsc": `writer enum symbol "UPDATED" not in reader and reader has no default`,
}

// TestReleasedVersions checks each embedded schema against every version
// released before it (schemas/testdata/<schema>.v*.avsc): data of each
// released version reads with the current schema (backward), and data of
// the current schema reads with each released version (forward) except for
// the breaks of forwardBreaks, which must fail for the reason they name.
func TestReleasedVersions(t *testing.T) {
	files, err := filepath.Glob("testdata/*.v*.avsc")
	if err != nil || len(files) < 3 {
		t.Fatalf("released versions in testdata: %q, %v", files, err)
	}
	for _, f := range files {
		current := CallEvent()
		if strings.HasPrefix(filepath.Base(f), "dead_letter.") {
			current = DeadLetter()
		}
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		old := mustParse(t, string(text))
		if err := CheckCompatibility(old, current); err != nil {
			t.Errorf("%s data with the current reader: %v", f, err)
		}
		err = CheckCompatibility(current, old)
		want, breaks := forwardBreaks[filepath.Base(f)]
		switch {
		case !breaks && err != nil:
			t.Errorf("current data with the %s reader: %v", f, err)
		case breaks && err == nil:
			t.Errorf("current data with the %s reader: compatible, want the known break (%s)", f, want)
		case breaks && !strings.Contains(err.Error(), want):
			t.Errorf("current data with the %s reader: %v, want the known break (%s)", f, err, want)
		}
		if _, err := Resolve(current, old); breaks && err == nil {
			t.Errorf("a %s reader resolves the current writer schema, want the known break", f)
		}
	}
}

// TestEventKindDefault checks what the enum default buys: data written
// with a later schema whose EventKind has a symbol the current one does
// not know reads with the current schema, the kind taken as the default
// UPDATED.
func TestEventKindDefault(t *testing.T) {
	current := CallEvent()
	later := strings.Replace(current.Text(), `"UPDATED"],`, `"UPDATED","MERGED"],`, 1)
	if later == current.Text() {
		t.Fatal("EventKind symbols not found in the schema text")
	}
	w := mustParse(t, later)
	res, err := Resolve(w, current)
	if err != nil {
		t.Fatalf("a later symbol with the current reader: %v", err)
	}
	at := time.UnixMilli(1742883983000).UTC()
	call := map[string]any{"id": int64(7), "preCost": int64(0), "cost": int64(0), "status": int32(2), "salesId": int64(0),
		"gmtCreateTime": at, "msgTime": at, "departments": []any{}, "message": nil, "content": nil, "extra": map[string]any{}}
	for _, f := range []string{"taskId", "corpId", "type", "msgId", "statusStr", "method", "salesName", "sendName", "receiveName", "callType", "url"} {
		call[f] = ""
	}
	generic := map[string]any{"eventId": "e", "kind": "MERGED", "previousStatus": nil, "call": call,
		"source": map[string]any{"app": "a", "type": "chat", "tier": "live", "windowStart": at, "windowEnd": at,
			"observedAt": at, "connectorVersion": "v", "name": "s"}}
	datum, err := w.Append(nil, generic)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := res.Decode(datum, &got); err != nil {
		t.Fatal(err)
	}
	if got["kind"] != "UPDATED" {
		t.Errorf("kind MERGED read as %v, want the default UPDATED", got["kind"])
	}
}
