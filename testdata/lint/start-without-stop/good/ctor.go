package good

import (
	"errors"
	"time"
)

// Cache sweeps expired entries until Close; its constructor starts the sweeper.
type Cache struct {
	m    map[string]time.Time
	done chan struct{}
}

func NewCache() *Cache {
	c := &Cache{m: map[string]time.Time{}, done: make(chan struct{})}
	go c.sweep()
	return c
}

func (c *Cache) sweep() {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-c.done:
			return
		}
	}
}

func (c *Cache) Close() { close(c.done) }

func (c *Cache) Put(k string) { c.m[k] = time.Now() }

// closeAll closes its receiver: calling it stops the cache too.
func (c *Cache) closeAll() { c.Close() }

func count(keys []string) int {
	c := NewCache()
	defer c.Close()
	for _, k := range keys {
		c.Put(k)
	}
	return len(c.m)
}

func countThenClose(keys []string) int {
	c := NewCache()
	for _, k := range keys {
		c.Put(k)
	}
	n := len(c.m)
	c.closeAll()
	return n
}

// Lazy starts its sweeper only when asked: a call may launch nothing.
type Lazy struct{ done chan struct{} }

func NewLazy(sweep bool) (*Lazy, error) {
	if !sweep {
		return nil, errors.New("lazy: nothing to do")
	}
	l := &Lazy{done: make(chan struct{})}
	if sweep {
		go func() { <-l.done }()
	}
	return l, nil
}

func (l *Lazy) Close() { close(l.done) }

func probe() bool {
	l, err := NewLazy(false)
	return l == nil && err != nil
}
