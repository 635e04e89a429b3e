package good

import "context"

// Buffered for the one send: the caller may leave.
func get(ctx context.Context, url string) (int, error) {
	ch := make(chan result, 1)
	go fetch(url, ch)
	select {
	case r := <-ch:
		return r.n, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// Every worker's value is taken.
func (p *pool) sum(n int) int {
	done := make(chan int)
	for i := 0; i < n; i++ {
		go p.run(i, done)
	}
	total := 0
	for i := 0; i < n; i++ {
		total += <-done
	}
	return total
}

// The send itself watches quit.
func offer(v int) {
	out := make(chan int)
	quit := make(chan struct{})
	go sendOrQuit(v, out, quit)
	close(quit)
}

// The literal's parameter is received on every path.
func lookup(keys []string, find func(string) int) int {
	found := make(chan int)
	go func(out chan int) {
		out <- find(keys[0])
	}(found)
	return <-found
}
