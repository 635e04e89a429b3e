// Package bad: a read lock taken again by the goroutine that holds it. Harmless until a
// writer calls Lock in between: the writer waits for the first RLock, the second RLock waits
// behind the writer, and neither ever moves.
package bad

import "sync"

type Cache struct {
	mu sync.RWMutex
	m  map[string]int
}

func (c *Cache) Get(k string) int {
	c.mu.RLock() // partner: mutex-double-lock
	defer c.mu.RUnlock()
	return c.m[k]
}

// Sum holds the read lock and calls Get, which takes it again.
func (c *Cache) Sum(keys []string) int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := 0
	for _, k := range keys {
		n += c.Get(k) // want: mutex-double-lock
	}
	return n
}

func (c *Cache) Put(k string, v int) {
	c.mu.Lock()
	c.m[k] = v
	c.mu.Unlock()
}
