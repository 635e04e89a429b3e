// Package bad: locks released on the normal path but not on an early return.
package bad

import (
	"errors"
	"sync"
)

type Cache struct {
	mu    sync.Mutex
	rw    sync.RWMutex
	items map[string]int
}

func (c *Cache) Put(k string, v int) error {
	c.mu.Lock() // want: mutex-not-unlocked
	if k == "" {
		return errors.New("empty key") // leaves with c.mu held
	}
	c.items[k] = v
	c.mu.Unlock()
	return nil
}

func (c *Cache) Get(k string) (int, bool) {
	c.rw.RLock() // want: mutex-not-unlocked
	v, ok := c.items[k]
	if !ok {
		return 0, false
	}
	c.rw.RUnlock()
	return v, true
}
