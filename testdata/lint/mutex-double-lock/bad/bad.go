// Package bad: a mutex taken again while held, on one path or through another method.
package bad

import "sync"

type Store struct {
	mu   sync.Mutex
	rw   sync.RWMutex
	data map[string]string
}

func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.data)
}

// Set calls Len while holding s.mu; Len locks it again.
func (s *Store) Set(k, v string) int {
	s.mu.Lock()
	s.data[k] = v
	n := s.Len() // want: mutex-double-lock
	s.mu.Unlock()
	return n
}

// Twice on one path.
func (s *Store) Swap(a, b string) {
	s.mu.Lock()
	s.data[a], s.data[b] = s.data[b], s.data[a]
	s.mu.Lock() // want: mutex-double-lock
	s.mu.Unlock()
}

// RLock re-entered: deadlocks as soon as a writer waits in between.
func (s *Store) Both(a, b string) (string, string) {
	s.rw.RLock()
	x := s.data[a]
	s.rw.RLock() // want: mutex-double-lock
	y := s.data[b]
	s.rw.RUnlock()
	s.rw.RUnlock()
	return x, y
}
