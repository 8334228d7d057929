package avrotest

import "testing"

func TestStripLogicalTypes(t *testing.T) {
	in := `{"type":"record","name":"r","fields":[` +
		`{"name":"t","type":{"type":"long","logicalType":"timestamp-millis"}},` +
		`{"name":"u","type":["null",{"type":"string","logicalType":"uuid"}]},` +
		`{"name":"d","type":{"type":"fixed","name":"f","size":4,"logicalType":"decimal"}}]}`
	want := `{"fields":[{"name":"t","type":"long"},{"name":"u","type":["null","string"]},` +
		`{"name":"d","type":{"logicalType":"decimal","name":"f","size":4,"type":"fixed"}}],"name":"r","type":"record"}`
	if got := StripLogicalTypes(t, []byte(in)); got != want {
		t.Errorf("StripLogicalTypes:\n got %s\nwant %s", got, want)
	}
}
