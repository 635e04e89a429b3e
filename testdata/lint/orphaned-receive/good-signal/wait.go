// Package good: signal.Notify on a channel with room for the signal.
package good

import (
	"os"
	"os/signal"
	"syscall"
)

func Wait(cleanup func()) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM)
	cleanup()
	<-c
}

type Daemon struct {
	sigs chan os.Signal
	done chan struct{}
}

func New() *Daemon {
	return &Daemon{sigs: make(chan os.Signal, 1), done: make(chan struct{})}
}

func (d *Daemon) Run() {
	signal.Notify(d.sigs, os.Interrupt)
	go d.waitLoop()
}

func (d *Daemon) waitLoop() {
	<-d.sigs
	close(d.done)
}
