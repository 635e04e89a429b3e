// Package bad: a goroutine ranging over a signal channel. Neither signal.Notify nor
// signal.Stop closes it, so the loop never ends: every Start leaves one more goroutine.
package bad

import (
	"os"
	"os/signal"
	"syscall"
)

type Server struct{ reload func() }

// Start reloads on SIGHUP for as long as the process lives, however often it is called.
func (s *Server) Start() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGHUP) // partner: range-never-closed
	go func() {
		for range c { // want: range-never-closed
			s.reload()
		}
	}()
}

var _ os.Signal
