// Package bad: under Go 1.26 (testdata/go.mod) a ticker handed to a goroutine leaks when that
// goroutine never stops it and never ends: its only way out is a context whose cancel was
// handed to a function that forgets it.
package bad

import (
	"context"
	"sync"
	"time"
)

type worker interface{ Tick() }

// Pool runs one ticking goroutine per worker.
type Pool struct {
	mu  sync.Mutex
	ids []string
}

// Add starts w's loop; its cancel goes to track, which was meant to keep it for Remove.
func (p *Pool) Add(id string, w worker) {
	ctx, cancel := context.WithCancel(context.Background()) // want: cancel-not-called
	t := time.NewTicker(time.Second)                        // want: ticker-not-stopped
	go p.run(ctx, t, w)
	p.track(id, cancel)
}

func (p *Pool) track(id string, stop context.CancelFunc) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ids = append(p.ids, id) // partner: cancel-not-called // partner: ticker-not-stopped
}

func (p *Pool) run(ctx context.Context, t *time.Ticker, w worker) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.Tick()
		}
	}
}
