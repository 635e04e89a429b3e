// Package good: the ticker handed to the goroutine is stopped there, and the cancel handed to
// track is kept where Remove calls it.
package good

import (
	"context"
	"sync"
	"time"
)

type worker interface{ Tick() }

// Pool runs one ticking goroutine per worker.
type Pool struct {
	mu    sync.Mutex
	stops map[string]context.CancelFunc
}

// Add starts w's loop and keeps its cancel for Remove.
func (p *Pool) Add(id string, w worker) {
	ctx, cancel := context.WithCancel(context.Background())
	t := time.NewTicker(time.Second)
	go p.run(ctx, t, w)
	p.track(id, cancel)
}

func (p *Pool) track(id string, stop context.CancelFunc) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stops[id] = stop
}

// Remove ends id's loop.
func (p *Pool) Remove(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if stop, ok := p.stops[id]; ok {
		stop()
		delete(p.stops, id)
	}
}

func (p *Pool) run(ctx context.Context, t *time.Ticker, w worker) {
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.Tick()
		}
	}
}

// Poll hands its ticker to a helper that stops it.
func Poll(ctx context.Context, f func() bool) {
	t := time.NewTicker(time.Second)
	wait(ctx, t, f)
}

func wait(ctx context.Context, t *time.Ticker, f func() bool) {
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if f() {
				return
			}
		}
	}
}
