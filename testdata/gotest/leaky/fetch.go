package leaky

import (
	"context"
	"time"
)

// Backend is a slow key-value source.
type Backend interface {
	Get(key string) (string, error)
}

// Client reads from a Backend with a per-call timeout.
type Client struct {
	Backend Backend
	Timeout time.Duration
}

type result struct {
	value string
	err   error
}

// Fetch returns Backend.Get(key), or ctx's error once c.Timeout has passed.
//
// The bug: ch is unbuffered. When the timeout wins, nobody ever receives from
// ch, so the goroutine blocks on its send forever once Get returns.
func (c *Client) Fetch(ctx context.Context, key string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()

	ch := make(chan result)
	go func() {
		v, err := c.Backend.Get(key)
		ch <- result{v, err}
	}()

	select {
	case r := <-ch:
		return r.value, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
