package leaky

import (
	"context"
	"errors"
	"testing"
	"time"
)

// gatedBackend answers Get only once gate is closed.
type gatedBackend struct{ gate chan struct{} }

func (b gatedBackend) Get(key string) (string, error) {
	<-b.gate
	return "value-of-" + key, nil
}

type instantBackend struct{}

func (instantBackend) Get(key string) (string, error) { return "value-of-" + key, nil }

// TestFetchTimeoutLeaks times out three fetches, then lets the backend answer:
// each of the 3 fetch goroutines blocks forever sending its result on an
// unbuffered channel that nobody reads any more.
func TestFetchTimeoutLeaks(t *testing.T) {
	gate := make(chan struct{})
	c := &Client{Backend: gatedBackend{gate}, Timeout: 5 * time.Millisecond}
	for _, key := range []string{"a", "b", "c"} {
		if _, err := c.Fetch(context.Background(), key); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Fetch(%q) error = %v, want deadline exceeded", key, err)
		}
	}
	close(gate) // the backend answers, too late
}

// TestFetchFast gets its answer before the timeout: no goroutine is left.
func TestFetchFast(t *testing.T) {
	c := &Client{Backend: instantBackend{}, Timeout: 10 * time.Second}
	v, err := c.Fetch(context.Background(), "k")
	if err != nil || v != "value-of-k" {
		t.Fatalf("Fetch = %q, %v; want value-of-k, nil", v, err)
	}
}
