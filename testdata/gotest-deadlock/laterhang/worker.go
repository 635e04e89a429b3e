// Package laterhang has a test that leaks a goroutine and passes, followed by a test that
// hangs: the leak must still be reported, and named, although the binary never reaches its end.
package laterhang

import "time"

// Poller calls f every interval until Stop is called.
type Poller struct {
	stop chan struct{}
}

func StartPoller(interval time.Duration, f func()) *Poller {
	p := &Poller{stop: make(chan struct{})}
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				f()
			}
		}
	}()
	return p
}

func (p *Poller) Stop() { close(p.stop) }

// Barrier lets n goroutines wait for each other.
type Barrier struct {
	arrive chan struct{}
	n      int
}

func NewBarrier(n int) *Barrier { return &Barrier{arrive: make(chan struct{}), n: n} }

// Wait blocks until n goroutines have called it. BUG: the n-th arrival releases nobody.
func (b *Barrier) Wait() {
	b.arrive <- struct{}{}
}
