package parallel

import (
	"context"
	"sync/atomic"
	"testing"
)

// TestParallelLeakA starts a pool of 2 workers and never stops it: 2 worker
// goroutines wait forever in `range p.jobs`.
func TestParallelLeakA(t *testing.T) {
	t.Parallel()
	p := NewPool(2)
	var n atomic.Int32
	done := make(chan struct{})
	for range 4 {
		if err := p.Submit(context.Background(), func() {
			if n.Add(1) == 4 {
				close(done)
			}
		}); err != nil {
			t.Fatalf("Submit: %v", err)
		}
	}
	<-done
	// Missing: p.Stop().
}

// TestParallelPoolStops is the same, stopped.
func TestParallelPoolStops(t *testing.T) {
	t.Parallel()
	p := NewPool(3)
	defer p.Stop()
	var n atomic.Int32
	for range 10 {
		if err := p.Submit(context.Background(), func() { n.Add(1) }); err != nil {
			t.Fatalf("Submit: %v", err)
		}
	}
	p.Stop()
	if got := n.Load(); got != 10 {
		t.Fatalf("ran %d jobs, want 10", got)
	}
}
