// Package bad: the sender closes the channel after its send, but the receiver has already
// left on the timeout, so the send (and the close behind it) never happens.
package bad

import (
	"errors"
	"time"
)

func withTimeout(work func() error) error {
	errc := make(chan error)
	go func() {
		defer close(errc)
		errc <- work() // want: orphaned-send
	}()
	select {
	case err := <-errc:
		return err
	case <-time.After(time.Second): // partner: orphaned-send
		return errors.New("timeout")
	}
}
