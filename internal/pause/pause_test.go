package pause

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestFor(t *testing.T) {
	if err := For(context.Background(), time.Millisecond); err != nil {
		t.Errorf("For a millisecond = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := For(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("For on a done context = %v, want context.Canceled", err)
	}
	if time.Since(start) > time.Second {
		t.Error("For on a done context waited")
	}
	if err := For(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("For(0) on a done context = %v", err)
	}
}

func TestBackoffDoublesUpToMax(t *testing.T) {
	b := Backoff{Initial: time.Second, Max: 5 * time.Second}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	for i, w := range want {
		if p := b.Peek(); p != w {
			t.Errorf("Peek before wait %d = %v, want %v", i, p, w)
		}
		if d := b.Next(); d != w {
			t.Errorf("wait %d = %v, want %v", i, d, w)
		}
	}
	b.Reset()
	if d := b.Next(); d != time.Second {
		t.Errorf("after Reset: %v, want 1s", d)
	}
	over := Backoff{Initial: time.Minute, Max: time.Second}
	if d := over.Next(); d != time.Second {
		t.Errorf("Initial above Max: %v, want Max", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := over.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait on a done context = %v", err)
	}
}
