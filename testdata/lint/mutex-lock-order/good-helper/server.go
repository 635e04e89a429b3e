// Package good: the helper that takes the second mutex is called after the first is released,
// so both are always taken in one order.
package good

import "sync"

type Server struct {
	connsMu sync.Mutex
	statsMu sync.Mutex
	conns   map[int]bool
	opened  int
}

func (s *Server) AddConn(id int) {
	s.connsMu.Lock()
	s.conns[id] = true
	s.connsMu.Unlock()
	s.bump()
}

func (s *Server) bump() {
	s.statsMu.Lock()
	s.opened++
	s.statsMu.Unlock()
}

func (s *Server) Report() (int, int) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	s.connsMu.Lock()
	n := len(s.conns)
	s.connsMu.Unlock()
	return n, s.opened
}
