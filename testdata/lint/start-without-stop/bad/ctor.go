package bad

import "time"

// Cache sweeps expired entries until Close; its constructor starts the sweeper.
type Cache struct {
	m    map[string]time.Time
	done chan struct{}
}

func NewCache() *Cache {
	c := &Cache{m: map[string]time.Time{}, done: make(chan struct{})}
	go c.sweep() // partner: start-without-stop
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

// The constructor is the start: count's cache is never closed.
func count(keys []string) int {
	c := NewCache() // want: start-without-stop
	for _, k := range keys {
		c.Put(k)
	}
	return len(c.m)
}
