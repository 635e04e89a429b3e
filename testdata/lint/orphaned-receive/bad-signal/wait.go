// Package bad: signal.Notify on an unbuffered channel. The runtime drops a signal that arrives
// while nobody waits on the channel, and the receive then waits for one already gone.
package bad

import (
	"os"
	"os/signal"
	"syscall"
)

// Wait blocks until SIGTERM; one sent while cleanup runs is lost.
func Wait(cleanup func()) {
	c := make(chan os.Signal)
	signal.Notify(c, syscall.SIGTERM) // want: orphaned-receive
	cleanup()
	<-c // partner: orphaned-receive
}

// Daemon keeps its signal channel in a field, where go vet's sigchanyzer does not look.
type Daemon struct {
	sigs chan os.Signal
	done chan struct{}
}

func New() *Daemon {
	return &Daemon{sigs: make(chan os.Signal), done: make(chan struct{})}
}

func (d *Daemon) Run() {
	signal.Notify(d.sigs, os.Interrupt) // want: orphaned-receive
	go d.waitLoop()
}

func (d *Daemon) waitLoop() {
	<-d.sigs // partner: orphaned-receive
	close(d.done)
}
