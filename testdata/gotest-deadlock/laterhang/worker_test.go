package laterhang

import (
	"testing"
	"time"
)

// TestPollerLeaks never stops its poller: one goroutine left in a select on a live ticker.
func TestPollerLeaks(t *testing.T) {
	StartPoller(time.Hour, func() {})
}

func TestPollerStops(t *testing.T) {
	p := StartPoller(time.Hour, func() {})
	p.Stop()
}

// TestBarrierHangs: the barrier's channel has no receiver, so every Wait blocks forever.
func TestBarrierHangs(t *testing.T) {
	b := NewBarrier(2)
	done := make(chan struct{})
	go func() {
		b.Wait()
		close(done)
	}()
	b.Wait()
	<-done
}
