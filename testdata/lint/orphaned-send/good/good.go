// Package good holds sends that cannot be orphaned: none may be reported.
package good

import (
	"context"
	"errors"
	"time"
)

// Buffered for its one sender: the send completes even after the caller gave up.
func withTimeout(slow func() int) (int, error) {
	ch := make(chan int, 1)
	go func() { ch <- slow() }()
	select {
	case v := <-ch:
		return v, nil
	case <-time.After(time.Second):
		return 0, errors.New("timeout")
	}
}

// The sender gives up with the receiver.
func withContext(ctx context.Context, slow func() int) (int, error) {
	ch := make(chan int)
	go func() {
		select {
		case ch <- slow():
		case <-ctx.Done():
		}
	}()
	select {
	case v := <-ch:
		return v, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// Every answer is received.
func all(replicas []func() string) []string {
	ch := make(chan string)
	for _, r := range replicas {
		go func() { ch <- r() }()
	}
	out := make([]string, 0, len(replicas))
	for range replicas {
		out = append(out, <-ch)
	}
	return out
}

// A receiver loop that keeps receiving until every worker is done.
func collect(n int, work func(int) error) error {
	errc := make(chan error)
	for i := 0; i < n; i++ {
		go func() { errc <- work(i) }()
	}
	var first error
	for i := 0; i < n; i++ {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	return first
}

var _ = []any{withTimeout, withContext, all, collect}
