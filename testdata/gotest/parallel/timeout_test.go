package parallel

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestParallelLeakB gives RunWithTimeout a stub that ignores its context and
// blocks in select {}: 1 goroutine stays forever.
func TestParallelLeakB(t *testing.T) {
	t.Parallel()
	hang := func(context.Context) error {
		select {}
	}
	if err := RunWithTimeout(context.Background(), 5*time.Millisecond, hang); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("RunWithTimeout = %v, want deadline exceeded", err)
	}
}

// TestParallelTimeoutHonoured gives RunWithTimeout a function that returns
// when its context is cancelled: its goroutine ends.
func TestParallelTimeoutHonoured(t *testing.T) {
	t.Parallel()
	returned := make(chan struct{})
	wait := func(ctx context.Context) error {
		defer close(returned)
		<-ctx.Done()
		return ctx.Err()
	}
	if err := RunWithTimeout(context.Background(), 5*time.Millisecond, wait); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("RunWithTimeout = %v, want deadline exceeded", err)
	}
	<-returned
}

// TestParallelFastFunc returns before the deadline.
func TestParallelFastFunc(t *testing.T) {
	t.Parallel()
	want := errors.New("boom")
	if err := RunWithTimeout(context.Background(), 10*time.Second, func(context.Context) error { return want }); err != want {
		t.Fatalf("RunWithTimeout = %v, want %v", err, want)
	}
}
