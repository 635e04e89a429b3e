// Package bad holds, under Go 1.26 (testdata/go.mod), the one way an unstopped ticker still
// leaks: the goroutine holding it never ends. Unreferenced tickers are collected since Go 1.23.
package bad

import (
	"context"
	"sync"
	"time"
)

type member struct {
	stop context.CancelFunc
}

// Hub keeps one heartbeat goroutine per member.
type Hub struct {
	mu      sync.Mutex
	members map[string]*member
}

// Join starts id's heartbeat. Its context's cancel is kept, but only Leave calls it, and
// nothing calls Leave.
func (h *Hub) Join(id string, ping func()) {
	ctx, cancel := context.WithCancel(context.Background())
	h.mu.Lock()
	h.members[id] = &member{stop: cancel}
	h.mu.Unlock()
	go h.beat(ctx, ping)
}

func (h *Hub) leave(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if m, ok := h.members[id]; ok {
		m.stop()
		delete(h.members, id)
	}
}

func (h *Hub) beat(ctx context.Context, ping func()) {
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

// A goroutine on a context nothing can cancel, reading an anonymous ticker.
func Watch(f func()) {
	ctx, cancel := context.WithCancel(context.Background()) // want: cancel-not-called
	_ = cancel
	go func() {
		tick := time.Tick(time.Second) // want: ticker-not-stopped
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick:
				f()
			}
		}
	}()
}
