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

// Recount holds s.connsMu and calls recalc, which knows it is held: it releases it to take
// s.statsMu first, in the order Report uses, then takes it back (nats-server's shape).
func (s *Server) Recount() int {
	s.connsMu.Lock()
	defer s.connsMu.Unlock()
	return s.recalc()
}

func (s *Server) recalc() int {
	s.connsMu.Unlock()
	s.statsMu.Lock()
	s.connsMu.Lock()
	n := len(s.conns) + s.opened
	s.statsMu.Unlock()
	return n
}
