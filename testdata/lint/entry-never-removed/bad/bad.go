// Package bad holds the shapes entry-never-removed must report.
package bad

import (
	"context"
	"sync"
)

type session struct {
	id     string
	cancel context.CancelFunc
	events chan string
}

// Hub registers sessions and never forgets one.
type Hub struct {
	mu       sync.Mutex
	sessions map[string]*session
}

func (h *Hub) Join(parent context.Context, id string) context.Context {
	ctx, cancel := context.WithCancel(parent)
	h.mu.Lock()
	h.sessions[id] = &session{id: id, cancel: cancel, events: make(chan string, 8)} // want: entry-never-removed
	h.mu.Unlock()
	return ctx
}

func (h *Hub) Leave(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s, ok := h.sessions[id]; ok {
		s.cancel() // cancelled, but the entry stays
	}
}

var waiters = map[int]chan struct{}{}

func wait(id int) <-chan struct{} {
	ch := make(chan struct{})
	waiters[id] = ch // want: entry-never-removed
	return ch
}
