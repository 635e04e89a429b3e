// Package bad: more ways a goroutine's send outlives its receiver.
package bad

import (
	"context"
	"errors"
	"time"
)

// Two sends on one path, one receive: the error path sends, then falls through and sends again.
func fetch(get func() (int, error)) (int, error) {
	res := make(chan int)
	errc := make(chan error)
	go func() {
		v, err := get()
		if err != nil {
			errc <- err
		}
		errc <- nil // want: orphaned-send
		res <- v
	}()
	if err := <-errc; err != nil {
		return 0, err
	}
	return <-res, nil
}

// Nothing ever receives from done.
func fire(work func()) {
	done := make(chan struct{})
	go func() {
		work()
		done <- struct{}{} // want: orphaned-send
	}()
}

// The sender closes after its send, but the receiver has already left on the timeout.
func withTimeout(ctx context.Context, work func() error) error {
	errc := make(chan error)
	go func() {
		defer close(errc)
		errc <- work() // want: orphaned-send
	}()
	select {
	case err := <-errc:
		return err
	case <-time.After(time.Second):
		return errors.New("timeout")
	}
}
