package schemas

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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

// TestReleasedVersions checks each embedded schema against every version
// released before it (schemas/testdata/<schema>.v*.avsc): data of either
// reads with the other, as docs/schema-evolution.md promises.
func TestReleasedVersions(t *testing.T) {
	files, err := filepath.Glob("testdata/*.v*.avsc")
	if err != nil || len(files) < 2 {
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
		if err := CheckCompatibility(current, old); err != nil {
			t.Errorf("current data with the %s reader: %v", f, err)
		}
	}
}
