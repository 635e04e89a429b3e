// Package bad: the channel is handed on a second time (the goroutine passes it to a helper, or
// starts another goroutine with it), and the send there is stranded when the receiver leaves.
package bad

import "context"

type result struct {
	n   int
	err error
}

// get starts worker, which hands out to retry; the caller may leave on ctx.Done().
func get(ctx context.Context, url string) (int, error) {
	ch := make(chan result)
	go worker(url, ch)
	select {
	case r := <-ch:
		return r.n, r.err
	case <-ctx.Done(): // partner: orphaned-send
		return 0, ctx.Err()
	}
}

// lookup's goroutine starts deliver with the channel; the early return strands it.
func lookup(keys []string, find func(string) int) int {
	found := make(chan int)
	go func() {
		go deliver(found, find(keys[0]))
	}()
	if len(keys) > 1 {
		return -1 // partner: orphaned-send
	}
	return <-found
}
