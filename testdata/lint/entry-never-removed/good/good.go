// Package good holds registries whose entries are removed: none may be reported.
package good

import (
	"context"
	"sync"
)

type session struct {
	cancel context.CancelFunc
}

type Hub struct {
	mu       sync.Mutex
	sessions map[string]*session
	// names holds plain data: no lifecycle, not this rule's business.
	names map[string]string
}

func (h *Hub) Join(parent context.Context, id string) context.Context {
	ctx, cancel := context.WithCancel(parent)
	h.mu.Lock()
	h.sessions[id] = &session{cancel: cancel}
	h.names[id] = id
	h.mu.Unlock()
	return ctx
}

func (h *Hub) Leave(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s, ok := h.sessions[id]; ok {
		s.cancel()
		delete(h.sessions, id)
	}
}

var waiters = map[int]chan struct{}{}

func wait(id int) <-chan struct{} {
	ch := make(chan struct{})
	waiters[id] = ch
	return ch
}

func release() { clear(waiters) }
