// Package good: under Go 1.22 each ticker is stopped by the function it is handed to.
package good

import "time"

// Poll hands its ticker to wait, which stops it.
func Poll(f func() bool) {
	t := time.NewTicker(time.Second)
	wait(t, f)
}

func wait(t *time.Ticker, f func() bool) {
	defer t.Stop()
	for range t.C {
		if f() {
			return
		}
	}
}

// Watch hands it to a goroutine that stops it when done.
func Watch(f func() bool) {
	tick := time.NewTicker(time.Second)
	go func(t *time.Ticker) {
		defer t.Stop()
		for range t.C {
			if !f() {
				return
			}
		}
	}(tick)
}

// Keep hands it to a constructor that stores it: its new owner stops it.
type poller struct{ t *time.Ticker }

func (p *poller) Close() { p.t.Stop() }

func Keep() *poller { return newPoller(time.NewTicker(time.Second)) }

func newPoller(t *time.Ticker) *poller { return &poller{t: t} }
