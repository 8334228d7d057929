package calllist

import (
	"testing"
	"time"
)

// ParseTime agrees with time.ParseInLocation on the vendor's layout, and
// refuses what it refuses.
func TestParseTimeIsTheLayout(t *testing.T) {
	for _, s := range []string{
		"2025-03-21 14:17:44", "0000-01-01 00:00:00", "9999-12-31 23:59:59", "2024-02-29 12:00:00",
		"2025-03-21 14:17:44.5", "2025-03-21 14:17:44,123456789", "2025-03-21 14:17:44.000001",
		"2023-02-29 12:00:00", "2025-04-31 00:00:00", "2025-13-01 00:00:00", "2025-00-10 00:00:00",
		"2025-03-00 00:00:00", "2025-03-21 24:00:00", "2025-03-21 23:60:00", "2025-03-21 23:59:60",
		"2025/03/21 14:17:44", "2025-03-21T14:17:44", "2025-3-21 14:17:44", "2025-03-21 14:17:4",
		"2025-03-21 14:17:44.", "2025-03-21 14:17:44x", "2025-03-21 14:17:44.1234567890", "",
		"+025-03-21 14:17:44", "2025-03-21 14:17:4a", "2025-03-21 14:17:44.1a",
	} {
		want, werr := time.ParseInLocation(TimeLayout, s, CST)
		got, err := ParseTime(s)
		if (err == nil) != (werr == nil) || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; time.ParseInLocation: %v, %v", s, got, err, want, werr)
		}
	}
}

func FuzzParseTime(f *testing.F) {
	f.Add("2025-03-21 14:17:44")
	f.Add("2024-02-29 23:59:59.999")
	f.Fuzz(func(t *testing.T, s string) {
		want, werr := time.ParseInLocation(TimeLayout, s, CST)
		got, err := ParseTime(s)
		if werr == nil && (err != nil || !got.Equal(want)) {
			t.Fatalf("ParseTime(%q) = %v, %v; time.ParseInLocation: %v", s, got, err, want)
		}
		if err == nil && werr != nil {
			t.Fatalf("ParseTime(%q) = %v; time.ParseInLocation refuses it: %v", s, got, werr)
		}
	})
}
