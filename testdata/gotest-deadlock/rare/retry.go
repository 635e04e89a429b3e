// Package rare has a leak that fires about once in twenty runs: when the jitter drawn for a
// retry is zero, Do takes a fast path that starts a goroutine whose result nobody reads.
package rare

import (
	"errors"
	"math/rand/v2"
	"time"
)

var errBusy = errors.New("busy")

// Do calls f, retrying once after a jittered pause when it reports errBusy.
func Do(f func() error) error {
	err := f()
	if !errors.Is(err, errBusy) {
		return err
	}
	jitter := rand.IntN(20)
	if jitter == 0 {
		// Fast path: race a second call against a short deadline.
		res := make(chan error) // BUG: unbuffered; the send blocks forever after the timeout
		go func() { res <- f() }()
		select {
		case err := <-res:
			return err
		case <-time.After(time.Millisecond):
			return errBusy
		}
	}
	time.Sleep(time.Duration(jitter) * time.Microsecond)
	return f()
}
