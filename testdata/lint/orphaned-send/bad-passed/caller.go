package bad

import (
	"context"
	"errors"
)

// The caller gives up on ctx.Done() and fetch is left sending.
func get(ctx context.Context, url string) (int, error) {
	ch := make(chan result)
	go fetch(url, ch)
	select {
	case r := <-ch:
		return r.n, r.err
	case <-ctx.Done(): // partner: orphaned-send
		return 0, ctx.Err()
	}
}

// The first answer wins; the other workers are left sending.
func (p *pool) first(n int) int {
	done := make(chan int)
	for i := 0; i < n; i++ {
		go p.run(i, done)
	}
	return <-done // partner: orphaned-send
}

// Nothing receives from counts.
func count(n int) error {
	counts := make(chan int)
	go report(n, counts)
	if n < 0 {
		return errors.New("negative")
	}
	return nil
}

// A literal handed the channel as its parameter: the early return strands it.
func lookup(keys []string, find func(string) int) int {
	found := make(chan int)
	go func(out chan int) {
		out <- find(keys[0]) // want: orphaned-send
	}(found)
	if len(keys) > 1 {
		return -1 // partner: orphaned-send
	}
	return <-found
}
