package leaky

import (
	"context"
	"testing"
	"time"
)

// TestSubscribeLeaks never unsubscribes: the subscriber's pump and heartbeat
// goroutines (2) wait forever on a context nobody cancels.
func TestSubscribeLeaks(t *testing.T) {
	h := &Hub{}
	got := make(chan Message, 1)
	h.Subscribe("alice", func(m Message) { got <- m })

	if err := h.Publish(context.Background(), "alice", Message{Topic: "greeting", Body: "hi"}); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if m := <-got; m.Body != "hi" {
		t.Fatalf("delivered %q, want %q", m.Body, "hi")
	}
	// Missing: h.Unsubscribe("alice") or h.Close().
}

// TestSubscribeAndClose is the same flow, cleaned up.
func TestSubscribeAndClose(t *testing.T) {
	h := &Hub{}
	defer h.Close()
	got := make(chan Message, 1)
	h.Subscribe("bob", func(m Message) { got <- m })

	if err := h.Publish(context.Background(), "bob", Message{Topic: "greeting", Body: "hello"}); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if m := <-got; m.Body != "hello" {
		t.Fatalf("delivered %q, want %q", m.Body, "hello")
	}
}

// TestUnsubscribe checks that an unsubscribed id no longer receives messages.
func TestUnsubscribe(t *testing.T) {
	h := &Hub{}
	defer h.Close()
	h.Subscribe("carol", func(Message) {})
	h.Unsubscribe("carol")
	if n := h.Len(); n != 0 {
		t.Fatalf("Len = %d after Unsubscribe, want 0", n)
	}
	if err := h.Publish(context.Background(), "carol", Message{}); err != ErrNoSubscriber {
		t.Fatalf("Publish after Unsubscribe = %v, want ErrNoSubscriber", err)
	}
}

// TestHeartbeatPings uses a short interval and closes the hub.
func TestHeartbeatPings(t *testing.T) {
	h := &Hub{Heartbeat: time.Millisecond}
	defer h.Close()
	pings := make(chan Message, 1)
	h.Subscribe("dave", func(m Message) {
		select {
		case pings <- m:
		default:
		}
	})
	select {
	case m := <-pings:
		if m.Topic != "ping" {
			t.Fatalf("topic %q, want ping", m.Topic)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no heartbeat within 5s")
	}
}
