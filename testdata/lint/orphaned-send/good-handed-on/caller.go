// Package good: the channel handed on a second time, where nobody can be stranded: a buffer
// with room for the one send, a receiver that always waits, a helper that gives up with ctx.
package good

import "context"

type result struct {
	n   int
	err error
}

// The buffer takes retry's one send even after the caller has left.
func get(ctx context.Context, url string) (int, error) {
	ch := make(chan result, 1)
	go worker(url, ch)
	select {
	case r := <-ch:
		return r.n, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// No way out before the receive.
func lookup(keys []string, find func(string) int) int {
	found := make(chan int)
	go func() {
		go deliver(found, find(keys[0]))
	}()
	return <-found
}

// The helper's send watches ctx.Done() too.
func fetch(ctx context.Context, url string) (int, error) {
	ch := make(chan result)
	go func() { trySend(ctx, url, ch) }()
	select {
	case r := <-ch:
		return r.n, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}
