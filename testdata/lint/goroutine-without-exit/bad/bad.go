// Package bad holds the shapes goroutine-without-exit must report.
package bad

import "time"

var sink int

func handle(req int) {
	go func() { // want: goroutine-without-exit
		for {
			sink += req
			time.Sleep(time.Second)
		}
	}()
}

type cache struct{ hits chan int }

func (c *cache) count() {
	for {
		select {
		case n := <-c.hits:
			sink += n
		}
	}
}

func newCache() *cache {
	c := &cache{hits: make(chan int)}
	go c.count() // want: goroutine-without-exit
	return c
}

var _ = []any{handle, newCache}
