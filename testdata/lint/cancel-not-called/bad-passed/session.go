// Package bad: a cancel handed to another function or goroutine, which never calls it or
// misses it on a way out. The context lives until its parent ends.
package bad

import (
	"context"
	"errors"
	"time"
)

type conn interface {
	Read() ([]byte, error)
	Ping(ctx context.Context) error
}

// serve hands the cancel to readLoop, meant to cancel the session when the peer hangs up;
// readLoop returns on a read error without calling it.
func serve(parent context.Context, c conn, handle func(context.Context, []byte)) {
	ctx, cancel := context.WithCancel(parent) // want: cancel-not-called
	go readLoop(ctx, c, cancel, handle)
}

// A timeout handed to a helper that never calls it (it only waits on the context).
func probe(parent context.Context, c conn) error {
	ctx, cancel := context.WithTimeout(parent, time.Second) // want: cancel-not-called
	return ping(ctx, c, cancel)
}

// Handed on twice: through start to watch, which forgets it.
func supervise(parent context.Context, c conn) {
	ctx, stop := context.WithCancel(parent) // want: cancel-not-called
	start(ctx, c, stop)
}

var errClosed = errors.New("closed")
