// Package good: a cancel handed to a function or goroutine that calls it on every way out, or
// that hands it on to one that does, or stores it for a later owner.
package good

import (
	"context"
	"time"
)

type conn interface {
	Read() ([]byte, error)
	Ping(ctx context.Context) error
}

// readLoop cancels the session on every way out.
func serve(parent context.Context, c conn, handle func(context.Context, []byte)) {
	ctx, cancel := context.WithCancel(parent)
	go readLoop(ctx, c, cancel, handle)
}

func readLoop(ctx context.Context, c conn, cancel context.CancelFunc, handle func(context.Context, []byte)) {
	defer cancel()
	for {
		b, err := c.Read()
		if err != nil {
			return
		}
		handle(ctx, b)
	}
}

// ping calls done on each path, or leaves when the context has ended anyway.
func probe(parent context.Context, c conn) error {
	ctx, cancel := context.WithTimeout(parent, time.Second)
	return ping(ctx, c, cancel)
}

func ping(ctx context.Context, c conn, done func()) error {
	errc := make(chan error, 1)
	go func() { errc <- c.Ping(ctx) }()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case err := <-errc:
		done()
		return err
	}
}

// Handed on to a goroutine that defers it.
func supervise(parent context.Context, c conn) {
	ctx, stop := context.WithCancel(parent)
	start(ctx, c, stop)
}

func start(ctx context.Context, c conn, stop context.CancelFunc) {
	go watch(ctx, c, stop)
}

func watch(ctx context.Context, c conn, stop context.CancelFunc) {
	defer stop()
	for {
		if _, err := c.Read(); err != nil {
			return
		}
	}
}

// Stored by the function it is handed to: its new owner calls it.
type session struct{ cancel context.CancelFunc }

func (s *session) Close() { s.cancel() }

func open(parent context.Context) *session {
	ctx, cancel := context.WithCancel(parent)
	_ = ctx
	return newSession(cancel)
}

func newSession(cancel context.CancelFunc) *session { return &session{cancel: cancel} }

var _ = []any{serve, probe, supervise, open}
