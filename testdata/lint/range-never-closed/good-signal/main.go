// Command good: a signal loop in main lives as long as the process on purpose; a server's
// loop leaves on its done channel and stops the notifications.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

type Server struct {
	reload func()
	done   chan struct{}
}

func (s *Server) Start() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGHUP)
	go func() {
		defer signal.Stop(c)
		for {
			select {
			case <-c:
				s.reload()
			case <-s.done:
				return
			}
		}
	}()
}

func (s *Server) Close() { close(s.done) }

func main() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGHUP, os.Interrupt)
	go func() {
		for range c {
			println("reload")
		}
	}()
	s := &Server{reload: func() {}, done: make(chan struct{})}
	s.Start()
	s.Close()
}
