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

const (
	stdin  = "stdin"
	stdout = "stdout"
)

// Bounded by their keys, or torn down as a whole: none of these grows without bound.
type mux struct {
	mu       sync.Mutex
	byID     map[byte]chan []byte   // at most 256 streams
	named    map[string]chan []byte // only the constant keys below
	ready    map[string]chan struct{}
	handlers map[int32]chan string
}

func (m *mux) add(id byte) { m.byID[id] = make(chan []byte) }

func (m *mux) std() {
	m.named[stdin] = make(chan []byte)
	m.named[stdout] = make(chan []byte)
}

// One readiness channel per distinct server, made on first use and reused afterwards.
func (m *mux) readyFor(server string) chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	ch, ok := m.ready[server]
	if !ok {
		ch = make(chan struct{})
		m.ready[server] = ch
	}
	return ch
}

func (m *mux) handler(p int32) chan string {
	h := make(chan string)
	m.handlers[p] = h
	return h
}

// Shutdown closes every handler: the entries end with the mux.
func (m *mux) shutdown() {
	for _, h := range m.handlers {
		close(h)
	}
}

var _ = []any{(*mux).add, (*mux).std, (*mux).readyFor, (*mux).handler, (*mux).shutdown}
