// Package bad: pollers started and never stopped by the function that owns them.
package bad

import (
	"errors"
	"time"
)

// Poller polls until Stop closes quit.
type Poller struct {
	every time.Duration
	quit  chan struct{}
	poll  func()
}

func NewPoller(every time.Duration, poll func()) *Poller {
	return &Poller{every: every, quit: make(chan struct{}), poll: poll}
}

// Start launches the polling goroutine; only Stop ends it.
func (p *Poller) Start() {
	go func() { // partner: start-without-stop
		t := time.NewTicker(p.every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				p.poll()
			case <-p.quit:
				return
			}
		}
	}()
}

func (p *Poller) Stop() { close(p.quit) }

// Never stopped: every call leaves one polling goroutine behind.
func refresh(load func()) {
	p := NewPoller(time.Second, load)
	p.Start() // want: start-without-stop
	load()
}

// Stopped on the happy path only: the early return skips Stop.
func sync(load func() error) error {
	p := &Poller{every: time.Second, quit: make(chan struct{}), poll: func() { _ = load() }}
	p.Start() // want: start-without-stop
	if err := load(); err != nil {
		return errors.Join(errors.New("first load"), err) // partner: start-without-stop
	}
	p.Stop()
	return nil
}
