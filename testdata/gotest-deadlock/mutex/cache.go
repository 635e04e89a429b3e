// Package mutex is a cache whose Get refreshes an expired entry while holding the lock, and
// whose refresh takes the same lock again: sync.Mutex is not reentrant, so Get deadlocks.
package mutex

import "sync"

type Cache struct {
	mu      sync.Mutex
	entries map[string]string
	stale   map[string]bool
	load    func(string) string
}

func New(load func(string) string) *Cache {
	return &Cache{entries: map[string]string{}, stale: map[string]bool{}, load: load}
}

// Get returns the cached value, loading it on a miss.
func (c *Cache) Get(key string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.entries[key]; ok && !c.stale[key] {
		return v
	}
	if c.stale[key] {
		c.refresh(key) // BUG: refresh locks c.mu again
		return c.entries[key]
	}
	v := c.load(key)
	c.entries[key] = v
	return v
}

// Expire marks a key for reloading on its next Get.
func (c *Cache) Expire(key string) {
	c.mu.Lock()
	c.stale[key] = true
	c.mu.Unlock()
}

func (c *Cache) refresh(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[key] = c.load(key)
	delete(c.stale, key)
}
