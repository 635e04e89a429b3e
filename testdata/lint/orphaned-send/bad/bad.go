// Package bad holds the shapes orphaned-send must report.
package bad

import (
	"context"
	"errors"
	"time"
)

func withTimeout(slow func() int) (int, error) {
	ch := make(chan int)
	go func() {
		ch <- slow() // want: orphaned-send
	}()
	select {
	case v := <-ch:
		return v, nil
	case <-time.After(time.Second):
		return 0, errors.New("timeout")
	}
}

func firstAnswer(replicas []func() string) string {
	ch := make(chan string)
	for _, r := range replicas {
		go func() {
			ch <- r() // want: orphaned-send
		}()
	}
	return <-ch
}

func earlyReturn(ctx context.Context, fetch func() error, check func() error) error {
	errc := make(chan error)
	go func() {
		errc <- fetch() // want: orphaned-send
	}()
	if err := check(); err != nil {
		return err
	}
	return <-errc
}

// The seed's shape: one goroutine per message sends on a subscriber's unbuffered channel,
// and the subscriber's pump can return first.
type sub struct {
	msgs chan string
}

func newSub() *sub { return &sub{msgs: make(chan string)} }

func (s *sub) pump(ctx context.Context, write func(string) error) {
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-s.msgs:
			if write(m) != nil {
				return
			}
		}
	}
}

func (s *sub) deliver(m string) {
	s.msgs <- m // want: orphaned-send
}

func publish(s *sub, m string) { go s.deliver(m) }

var _ = []any{withTimeout, firstAnswer, earlyReturn, newSub, publish, (*sub).pump}
