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
