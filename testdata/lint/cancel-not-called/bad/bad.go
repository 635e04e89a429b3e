// Package bad holds the shapes cancel-not-called must report; each reported line says so with
// a trailing "want" comment.
package bad

import (
	"context"
	"errors"
	"time"
)

func dropped(parent context.Context) context.Context {
	ctx, _ := context.WithTimeout(parent, time.Second) // want: cancel-not-called
	return ctx
}

func unused(parent context.Context, work func(context.Context)) {
	ctx, cancel := context.WithCancel(parent) // want: cancel-not-called
	work(ctx)
	_ = cancel
}

func missedOnError(parent context.Context, work func(context.Context) error) error {
	ctx, cancel := context.WithDeadline(parent, time.Now().Add(time.Second)) // want: cancel-not-called
	if err := work(ctx); err != nil {
		return err // cancel never runs on this path
	}
	cancel()
	return nil
}

// worker keeps a cancel nobody ever reads back.
type worker struct {
	stop context.CancelFunc
}

func start(parent context.Context, run func(context.Context)) *worker {
	ctx, cancel := context.WithCancel(parent) // want: cancel-not-called
	w := &worker{stop: cancel}
	go run(ctx)
	return w
}

var errSentinel = errors.New("x")

// narrow's deferred cancel was evaluated at the defer: it cancels the first context only.
func narrow(parent context.Context) context.Context {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var inner context.Context
	inner, cancel = context.WithTimeout(ctx, time.Second) // want: cancel-not-called
	return inner
}
