// Package bad: a time.AfterFunc callback runs in a goroutine of its own; a bare send there on
// an unbuffered channel blocks forever once the waiter has left (or if nobody waits at all).
package bad

import (
	"context"
	"time"
)

// wait gives up on ctx.Done(); the callback, firing later, is left sending.
func wait(ctx context.Context, d time.Duration) error {
	fired := make(chan struct{})
	time.AfterFunc(d, func() {
		fired <- struct{}{} // want: orphaned-send
	})
	select {
	case <-fired:
		return nil
	case <-ctx.Done(): // partner: orphaned-send
		return ctx.Err()
	}
}

// Nobody ever receives from done.
func arm(d time.Duration, f func()) {
	done := make(chan bool)
	time.AfterFunc(d, func() {
		f()
		done <- true // want: orphaned-send
	})
}
