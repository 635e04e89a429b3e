// Package notifyfixed is the corrected twin of package notify: the same
// WebSocket notification service, with every goroutine given a known exit.
//
// What changed, bug by bug:
//
//   - Disconnects are noticed. Subscribe also starts a read loop; a close frame
//     (via the close handler) or any read error calls unsubscribe, which
//     cancels the context, deletes the map entry and closes the socket. A
//     failed write or ping does the same.
//   - The heartbeat ticker is stopped when the heartbeat goroutine returns.
//   - Publishers never block: messages has a small buffer and deliver sends
//     with a select that gives up when the subscriber is gone or the buffer is
//     full (the message is dropped and counted: a slow client must not hold a
//     publisher hostage).
//
// messages is never closed. Publishers may still hold a subscription they
// looked up just before it was removed, and a send on a closed channel panics;
// once the context is cancelled nobody waits on the channel and the garbage
// collector reclaims it with the subscription.
package notifyfixed

import (
	"context"
	"sync"
	"sync/atomic"
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

// queueLen is the per-subscriber buffer. It absorbs short bursts; beyond it,
// messages for that subscriber are dropped rather than blocking publishers.
const queueLen = 16

// writeWait bounds every write, so a socket whose peer stopped reading cannot
// park the pump or the heartbeat forever.
const writeWait = 5 * time.Second

type subscription struct {
	userID   string
	ws       *websocket.Conn
	done     <-chan struct{} // ctx.Done(), for publishers
	cancel   context.CancelFunc
	messages chan Message
}

// Service fans notifications out to subscribed WebSocket clients.
type Service struct {
	interval time.Duration

	mu   sync.Mutex
	subs map[string]*subscription

	dropped atomic.Int64
}

// New returns a Service that pings every subscriber once per heartbeat.
func New(heartbeat time.Duration) *Service {
	return &Service{interval: heartbeat, subs: make(map[string]*subscription)}
}

// Subscribe registers ws as userID's notification socket and starts the
// goroutines that serve it: a writer (pump), a pinger (heartbeat) and a reader
// (readLoop). All three end when the subscription is cancelled, and any of
// them cancels it when it sees the connection fail. Subscribe returns at once;
// the service owns ws from now on and closes it.
func (s *Service) Subscribe(userID string, ws *websocket.Conn) {
	ctx, cancel := context.WithCancel(context.Background())
	sub := &subscription{
		userID:   userID,
		ws:       ws,
		done:     ctx.Done(),
		cancel:   cancel,
		messages: make(chan Message, queueLen),
	}

	// gorilla/websocket runs the close handler from inside a read call, which
	// is one reason the read loop below is required at all.
	replyClose := ws.CloseHandler()
	ws.SetCloseHandler(func(code int, text string) error {
		err := replyClose(code, text) // echo the close frame, as the default handler does
		s.unsubscribe(sub)
		return err
	})
	// A client that answers pings proves it is alive; one that stops answering
	// (a half-open TCP connection never delivers a FIN) times the read out.
	pongWait := 3 * s.interval
	ws.SetPongHandler(func(string) error {
		return ws.SetReadDeadline(time.Now().Add(pongWait))
	})
	_ = ws.SetReadDeadline(time.Now().Add(pongWait))

	s.mu.Lock()
	old := s.subs[userID]
	s.subs[userID] = sub
	s.mu.Unlock()
	if old != nil {
		// A reconnect replaces the previous socket; release the old one.
		s.unsubscribe(old)
	}

	go s.pumpMessages(ctx, sub)
	go s.heartbeat(ctx, sub)
	go s.readLoop(sub)
}

// Unsubscribe ends userID's subscription, if any.
func (s *Service) Unsubscribe(userID string) {
	s.mu.Lock()
	sub := s.subs[userID]
	s.mu.Unlock()
	if sub != nil {
		s.unsubscribe(sub)
	}
}

// unsubscribe cancels sub, removes it from the map if it is still the current
// subscription of its user, and closes its socket, which also ends readLoop.
// It is safe to call more than once and from any goroutine.
func (s *Service) unsubscribe(sub *subscription) {
	sub.cancel()
	s.mu.Lock()
	if s.subs[sub.userID] == sub {
		delete(s.subs, sub.userID)
	}
	s.mu.Unlock()
	_ = sub.ws.Close()
}

// readLoop discards what the client sends; it exists to notice the end of the
// connection (close frame, EOF, reset or pong timeout).
func (s *Service) readLoop(sub *subscription) {
	defer s.unsubscribe(sub)
	for {
		if _, _, err := sub.ws.ReadMessage(); err != nil {
			return
		}
	}
}

// pumpMessages writes every message for sub to its socket.
func (s *Service) pumpMessages(ctx context.Context, sub *subscription) {
	for {
		select {
		case <-ctx.Done():
			return
		case msg := <-sub.messages:
			_ = sub.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := sub.ws.WriteJSON(msg); err != nil {
				s.unsubscribe(sub)
				return
			}
		}
	}
}

// heartbeat pings the client so that proxies keep the connection open and
// dead peers are detected.
func (s *Service) heartbeat(ctx context.Context, sub *subscription) {
	ticker := time.NewTicker(s.interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			if err := sub.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				s.unsubscribe(sub)
				return
			}
		}
	}
}

// Broadcast offers msg to every subscriber and returns how many there were.
func (s *Service) Broadcast(msg Message) int {
	s.mu.Lock()
	subs := make([]*subscription, 0, len(s.subs))
	for _, sub := range s.subs {
		subs = append(subs, sub)
	}
	s.mu.Unlock()

	// Delivery never blocks, so it needs no goroutine and no lock.
	for _, sub := range subs {
		s.deliver(sub, msg)
	}
	return len(subs)
}

// Publish offers msg to one user and reports whether the user was subscribed.
func (s *Service) Publish(userID string, msg Message) bool {
	s.mu.Lock()
	sub := s.subs[userID]
	s.mu.Unlock()
	if sub == nil {
		return false
	}
	s.deliver(sub, msg)
	return true
}

// deliver queues msg for sub without ever blocking the caller.
func (s *Service) deliver(sub *subscription, msg Message) {
	select {
	case sub.messages <- msg:
	case <-sub.done:
		// Unsubscribed between lookup and send: nothing to do.
	default:
		// Queue full: the client is not keeping up. Dropping is this
		// service's backpressure policy; the count is exported for alerts.
		s.dropped.Add(1)
	}
}

// Len returns the number of subscriptions held.
func (s *Service) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

// Dropped returns how many messages were dropped because a queue was full.
func (s *Service) Dropped() int64 { return s.dropped.Load() }
