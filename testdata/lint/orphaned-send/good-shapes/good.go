// Package good: sends that always find their receiver.
package good

import (
	"context"
	"errors"
	"time"
)

// One send per path.
func fetch(get func() (int, error)) (int, error) {
	res := make(chan int)
	errc := make(chan error)
	go func() {
		v, err := get()
		if err != nil {
			errc <- err
			return
		}
		errc <- nil
		res <- v
	}()
	if err := <-errc; err != nil {
		return 0, err
	}
	return <-res, nil
}

// Buffered for the one send: the receiver may leave.
func withTimeout(ctx context.Context, work func() error) error {
	errc := make(chan error, 1)
	go func() {
		defer close(errc)
		errc <- work()
	}()
	select {
	case err := <-errc:
		return err
	case <-time.After(time.Second):
		return errors.New("timeout")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// The receiver drains in a loop until the sender closes.
func all(n int, f func(int) int) []int {
	out := make(chan int)
	go func() {
		defer close(out)
		for i := 0; i < n; i++ {
			out <- f(i)
		}
	}()
	var got []int
	for v := range out {
		got = append(got, v)
	}
	return got
}

// The other case's channel is closed by the same goroutine, on the path where it does not send.
func watch(next func() (bool, error)) error {
	errCh := make(chan error)
	finished := make(chan struct{})
	go func() {
		for {
			ok, err := next()
			if err != nil {
				errCh <- err
				return
			}
			if ok {
				close(finished)
				return
			}
		}
	}()
	select {
	case <-finished:
		return nil
	case err := <-errCh:
		return err
	}
}
