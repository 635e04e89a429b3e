// Package bad holds the shapes ticker-not-stopped must report; each reported line says so
// with a trailing "want" comment.
package bad

import (
	"context"
	"time"
)

func heartbeat(ctx context.Context, ping func()) {
	t := time.NewTicker(time.Second) // want: ticker-not-stopped
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			ping()
		}
	}
}

func poll(ctx context.Context, check func() bool) error {
	t := time.NewTicker(time.Second) // want: ticker-not-stopped
	for range t.C {
		if check() {
			return nil // leaves without t.Stop()
		}
		if ctx.Err() != nil {
			t.Stop()
			return ctx.Err()
		}
	}
	return nil
}

func ticks(n int) int {
	got := 0
	for range time.Tick(time.Millisecond) { // want: ticker-not-stopped
		got++
		if got == n {
			break
		}
	}
	return got
}

type pinger struct {
	ticker *time.Ticker
}

func newPinger() *pinger {
	return &pinger{ticker: time.NewTicker(time.Second)} // want: ticker-not-stopped
}

func (p *pinger) next() { <-p.ticker.C }
