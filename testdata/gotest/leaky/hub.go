package leaky

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Message is one notification for a subscriber.
type Message struct {
	Topic string
	Body  string
}

// DefaultHeartbeat is how often a subscriber is pinged when Hub.Heartbeat is zero.
const DefaultHeartbeat = 30 * time.Second

// ErrNoSubscriber is returned by Publish for an unknown subscriber.
var ErrNoSubscriber = errors.New("leaky: no such subscriber")

// Hub fans messages out to subscribers. Each subscriber owns two goroutines,
// a message pump and a heartbeat, that live until Unsubscribe or Close.
type Hub struct {
	Heartbeat time.Duration // ping interval; DefaultHeartbeat if zero

	mu   sync.Mutex
	subs map[string]*subscription
	wg   sync.WaitGroup
}

type subscription struct {
	id       string
	deliver  func(Message)
	messages chan Message
	cancel   context.CancelFunc
}

// Subscribe registers deliver under id and starts the subscriber's pump and
// heartbeat. The caller must call Unsubscribe(id) or Close, or both
// goroutines live forever: nothing else cancels their context.
func (h *Hub) Subscribe(id string, deliver func(Message)) {
	ctx, cancel := context.WithCancel(context.Background())
	sub := &subscription{id: id, deliver: deliver, messages: make(chan Message), cancel: cancel}

	h.mu.Lock()
	if h.subs == nil {
		h.subs = make(map[string]*subscription)
	}
	if old := h.subs[id]; old != nil {
		old.cancel()
	}
	h.subs[id] = sub
	h.mu.Unlock()

	h.wg.Add(2)
	go h.pump(ctx, sub)
	go h.heartbeat(ctx, sub)
}

func (h *Hub) pump(ctx context.Context, sub *subscription) {
	defer h.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case msg := <-sub.messages:
			sub.deliver(msg)
		}
	}
}

func (h *Hub) heartbeat(ctx context.Context, sub *subscription) {
	defer h.wg.Done()
	interval := h.Heartbeat
	if interval <= 0 {
		interval = DefaultHeartbeat
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			sub.deliver(Message{Topic: "ping"})
		}
	}
}

// Publish hands msg to subscriber id and waits until its pump has taken it,
// or until ctx is done.
func (h *Hub) Publish(ctx context.Context, id string, msg Message) error {
	h.mu.Lock()
	sub := h.subs[id]
	h.mu.Unlock()
	if sub == nil {
		return ErrNoSubscriber
	}
	select {
	case sub.messages <- msg:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Unsubscribe stops subscriber id's goroutines and forgets it.
func (h *Hub) Unsubscribe(id string) {
	h.mu.Lock()
	sub := h.subs[id]
	delete(h.subs, id)
	h.mu.Unlock()
	if sub != nil {
		sub.cancel()
	}
}

// Close unsubscribes everyone and waits until every goroutine has returned.
func (h *Hub) Close() {
	h.mu.Lock()
	subs := h.subs
	h.subs = nil
	h.mu.Unlock()
	for _, sub := range subs {
		sub.cancel()
	}
	h.wg.Wait()
}

// Len reports how many subscribers are registered.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}
