// Package good: pollers stopped on every way out, or handed to someone who stops them.
package good

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
func (p *Poller) Start() error {
	if p.every <= 0 {
		return errors.New("poller: no interval")
	}
	go func() {
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
	return nil
}

func (p *Poller) Stop() { close(p.quit) }

// Stopped by a defer right after a successful Start; Start's own failure started nothing.
func refresh(load func()) error {
	p := NewPoller(time.Second, load)
	if err := p.Start(); err != nil {
		return err
	}
	defer p.Stop()
	load()
	return nil
}

// Handed back: the caller owns it now.
func start(load func()) (*Poller, error) {
	p := NewPoller(time.Second, load)
	err := p.Start()
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Stopped before the only return.
func once(load func() error) error {
	p := NewPoller(time.Second, func() { _ = load() })
	_ = p.Start()
	err := load()
	p.Stop()
	return err
}

// The process's lifetime: main owns it until exit.
func main() {
	p, err := start(func() {})
	if err != nil {
		return
	}
	_ = p
	q := NewPoller(time.Second, func() {})
	_ = q.Start()
	select {}
}
