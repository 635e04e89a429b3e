// Package good: time.AfterFunc callbacks whose send cannot be stranded.
package good

import (
	"context"
	"time"
)

// Room for the one send, whether or not the waiter is still there.
func wait(ctx context.Context, d time.Duration) error {
	fired := make(chan struct{}, 1)
	time.AfterFunc(d, func() {
		fired <- struct{}{}
	})
	select {
	case <-fired:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// The callback gives up when nobody listens.
func arm(ctx context.Context, d time.Duration) <-chan bool {
	done := make(chan bool)
	time.AfterFunc(d, func() {
		select {
		case done <- true:
		case <-ctx.Done():
		}
	})
	return done
}
