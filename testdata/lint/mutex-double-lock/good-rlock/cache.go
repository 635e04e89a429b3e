// Package good: the read lock is taken once; the inner read expects it held.
package good

import "sync"

type Cache struct {
	mu sync.RWMutex
	m  map[string]int
}

func (c *Cache) Get(k string) int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.getLocked(k)
}

func (c *Cache) getLocked(k string) int { return c.m[k] }

func (c *Cache) Sum(keys []string) int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := 0
	for _, k := range keys {
		n += c.getLocked(k)
	}
	return n
}

func (c *Cache) Put(k string, v int) {
	c.mu.Lock()
	c.m[k] = v
	c.mu.Unlock()
}
