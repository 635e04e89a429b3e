// Package notify is the WebSocket notification service from the incident
// leakwatch was built for, leaks included. It is a test fixture: the server in
// cmd/notify-server runs it so that real goroutine dumps of the leak can be
// taken. Do not copy it; the corrected twin is package notifyfixed.
//
// Each of the three bugs sits on exactly one line, carrying a trailing comment
// that starts with the word BUG and its number. Each looks harmless on its
// own, which is how the original passed review:
//
//  1. cancel is only ever called by Unsubscribe, and nothing calls
//     Unsubscribe when a client disappears, so both per-subscriber goroutines
//     wait on a context that is never cancelled, and the map keeps the
//     subscription (socket included) alive forever.
//  2. The heartbeat ticker is never stopped.
//  3. Publishers send on an unbuffered channel with no way out, so once a
//     subscriber's pump has gone every message to it parks one goroutine in
//     "chan send" forever.
package notify

import (
	"context"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Message is one notification pushed to a browser.
type Message struct {
	Type string `json:"type"`
	Body string `json:"body"`
	// Seq lets a client notice gaps; the service does not interpret it.
	Seq int64 `json:"seq"`
}

// subscription is everything the service keeps for one connected user.
type subscription struct {
	userID   string
	ws       *websocket.Conn
	cancel   context.CancelFunc
	messages chan Message
}

// Service fans notifications out to subscribed WebSocket clients.
type Service struct {
	interval time.Duration

	mu   sync.Mutex
	subs map[string]*subscription
}

// New returns a Service that pings every subscriber once per heartbeat.
func New(heartbeat time.Duration) *Service {
	return &Service{interval: heartbeat, subs: make(map[string]*subscription)}
}

// Subscribe registers ws as userID's notification socket and starts the
// goroutines that serve it. It returns at once; the caller's handler may return.
func (s *Service) Subscribe(userID string, ws *websocket.Conn) {
	ctx, cancel := context.WithCancel(context.Background()) // BUG 1: cancel is stored, but only Unsubscribe calls it and no disconnect path reaches Unsubscribe
	sub := &subscription{
		userID:   userID,
		ws:       ws,
		cancel:   cancel,
		messages: make(chan Message), // unbuffered: a send completes only while the pump is receiving
	}

	s.mu.Lock()
	s.subs[userID] = sub
	s.mu.Unlock()

	go s.pumpMessages(ctx, sub)
	go s.heartbeat(ctx, sub)
}

// Unsubscribe stops userID's goroutines and forgets the subscription. It is
// correct, but nothing in the service or the server ever calls it.
func (s *Service) Unsubscribe(userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sub, ok := s.subs[userID]; ok {
		sub.cancel()
		delete(s.subs, userID)
	}
}

// pumpMessages writes every message for sub to its socket.
func (s *Service) pumpMessages(ctx context.Context, sub *subscription) {
	for {
		select {
		case <-ctx.Done():
			return
		case msg := <-sub.messages:
			if err := sub.ws.WriteJSON(msg); err != nil {
				// The client is gone. The pump quietly stops receiving, but
				// nobody unsubscribes: the subscription stays in the map, and
				// publishers keep sending to a channel nobody reads.
				return
			}
		}
	}
}

// heartbeat pings the client so that proxies keep the connection open.
func (s *Service) heartbeat(ctx context.Context, sub *subscription) {
	ticker := time.NewTicker(s.interval) // BUG 2: no defer ticker.Stop(); the ticker keeps firing for as long as the subscription lives
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			// Errors are ignored: a dead client just gets pinged forever.
			_ = sub.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(time.Second))
		}
	}
}

// Broadcast sends msg to every subscriber. Each delivery runs in its own
// goroutine so that one slow client cannot hold up the others.
func (s *Service) Broadcast(msg Message) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sub := range s.subs {
		go s.deliver(sub, msg)
	}
	return len(s.subs)
}

// Publish sends msg to one user, if subscribed. It reports whether a delivery
// was started.
func (s *Service) Publish(userID string, msg Message) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub, ok := s.subs[userID]
	if !ok {
		return false
	}
	go s.deliver(sub, msg)
	return true
}

// deliver hands msg to sub's pump.
func (s *Service) deliver(sub *subscription, msg Message) {
	sub.messages <- msg // BUG 3: blocks forever once the pump has returned: no select, no timeout, no context
}

// Len returns the number of subscriptions held.
func (s *Service) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}
