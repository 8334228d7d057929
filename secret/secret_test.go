package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestStringNeverPrints(t *testing.T) {
	const v = "s3cr3t-app-key"
	s := String(v)
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "key", s)
	j, _ := json.Marshal(struct{ K String }{s})
	outs := []string{
		fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q", s, s, s, s, s),
		fmt.Sprintf("%v", struct{ K String }{s}), buf.String(), string(j),
	}
	for _, o := range outs {
		if strings.Contains(o, v) {
			t.Errorf("secret leaked in %q", o)
		}
	}
	if s.Reveal() != v {
		t.Errorf("Reveal() = %q, want %q", s.Reveal(), v)
	}
}
