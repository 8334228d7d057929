// Package avrotest holds what the tests of more than one package need to
// check Avro schemas against goavro, the independent implementation they
// compare with.
package avrotest

import (
	"encoding/json"
	"testing"
)

// StripLogicalTypes rewrites every {"type":P,"logicalType":…} with P a
// primitive as the bare "P": the specification's [PRIMITIVES] rule of the
// Parsing Canonical Form, which goavro does not apply itself.
func StripLogicalTypes(tb testing.TB, text []byte) string {
	tb.Helper()
	var v any
	if err := json.Unmarshal(text, &v); err != nil {
		tb.Fatal(err)
	}
	out, err := json.Marshal(stripLogical(v))
	if err != nil {
		tb.Fatal(err)
	}
	return string(out)
}

func stripLogical(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if typ, ok := v["type"].(string); ok && v["logicalType"] != nil && primitives[typ] {
			return typ
		}
		for k, e := range v {
			v[k] = stripLogical(e)
		}
	case []any:
		for i, e := range v {
			v[i] = stripLogical(e)
		}
	}
	return v
}

var primitives = map[string]bool{"null": true, "boolean": true, "int": true, "long": true,
	"float": true, "double": true, "bytes": true, "string": true}
