// Package good: every way out releases the lock, or the lock is handed over on purpose.
package good

import (
	"errors"
	"sync"
)

type Cache struct {
	mu    sync.Mutex
	items map[string]int
}

func (c *Cache) Put(k string, v int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k == "" {
		return errors.New("empty key")
	}
	c.items[k] = v
	return nil
}

func (c *Cache) Del(k string) error {
	c.mu.Lock()
	if _, ok := c.items[k]; !ok {
		c.mu.Unlock()
		return errors.New("no such key")
	}
	delete(c.items, k)
	c.mu.Unlock()
	return nil
}

// lockIfOpen returns with the lock held when it reports true: the caller unlocks.
func (c *Cache) lockIfOpen() bool {
	c.mu.Lock()
	if c.items == nil {
		c.mu.Unlock()
		return false
	}
	return true
}

// A lock taken in one function and released in another: not this rule's business.
func (c *Cache) acquire() { c.mu.Lock() }
func (c *Cache) release() { c.mu.Unlock() }

var _ = []any{(*Cache).lockIfOpen, (*Cache).acquire, (*Cache).release}
