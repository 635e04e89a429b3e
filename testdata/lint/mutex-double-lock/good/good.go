// Package good: locks released before they are taken again.
package good

import "sync"

type Store struct {
	mu   sync.Mutex
	data map[string]string
}

func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.data)
}

func (s *Store) lenLocked() int { return len(s.data) }

func (s *Store) Set(k, v string) int {
	s.mu.Lock()
	s.data[k] = v
	n := s.lenLocked()
	s.mu.Unlock()
	return n + s.Len()
}

func (s *Store) Twice(a, b string) {
	s.mu.Lock()
	s.data[a] = b
	s.mu.Unlock()
	s.mu.Lock()
	s.data[b] = a
	s.mu.Unlock()
}

func (s *Store) Each(keys []string) {
	for _, k := range keys {
		s.mu.Lock()
		if k == "" {
			s.mu.Unlock()
			continue
		}
		s.data[k] = k
		s.mu.Unlock()
	}
}
