// Package bad: two mutexes taken in opposite orders, one of them through a helper method.
package bad

import "sync"

type Server struct {
	connsMu sync.Mutex
	statsMu sync.Mutex
	conns   map[int]bool
	opened  int
}

// AddConn holds s.connsMu and calls bump, which takes s.statsMu.
func (s *Server) AddConn(id int) {
	s.connsMu.Lock()
	defer s.connsMu.Unlock()
	s.conns[id] = true
	s.bump() // want: mutex-lock-order
}

func (s *Server) bump() {
	s.statsMu.Lock()
	s.opened++
	s.statsMu.Unlock()
}

// Report holds s.statsMu and takes s.connsMu: the other order.
func (s *Server) Report() (int, int) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	s.connsMu.Lock() // partner: mutex-lock-order
	n := len(s.conns)
	s.connsMu.Unlock()
	return n, s.opened
}
