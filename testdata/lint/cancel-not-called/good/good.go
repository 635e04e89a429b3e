// Package good holds cancels that are called on every way out: none may be reported.
package good

import (
	"context"
	"time"
)

func deferred(parent context.Context, work func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(parent, time.Second)
	defer cancel()
	return work(ctx)
}

func everyPath(parent context.Context, work func(context.Context) error) error {
	ctx, cancel := context.WithCancel(parent)
	if err := work(ctx); err != nil {
		cancel()
		return err
	}
	cancel()
	return nil
}

// Returned to the caller, who owns it now.
func derive(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	return ctx, cancel
}

// Kept in a field that Close calls.
type worker struct {
	cancel context.CancelFunc
}

func start(parent context.Context, run func(context.Context)) *worker {
	ctx, cancel := context.WithCancel(parent)
	w := &worker{cancel: cancel}
	go run(ctx)
	return w
}

func (w *worker) Close() { w.cancel() }

// Cancelled from another goroutine.
func async(parent context.Context, wait func(context.Context)) {
	ctx, cancel := context.WithCancel(parent)
	go cancel()
	wait(ctx)
}

var _ = []any{deferred, everyPath, derive, start, async}

// Every case of the select either cancels or waits on this context's own Done (after which it
// is already cancelled and let go by its parent).
func retry(ctx context.Context, call func(context.Context), ok <-chan struct{}) {
	for {
		sCtx, sCancel := context.WithTimeout(ctx, time.Millisecond)
		call(sCtx)
		select {
		case <-sCtx.Done():
		case <-ok:
			sCancel()
			return
		}
	}
}

// A closure made earlier calls the variable, so it calls whichever cancel it holds by then.
func reassigned(ctx context.Context, run func(context.Context, func())) {
	var cancel context.CancelFunc
	stop := func() { cancel() }
	var cctx context.Context
	cctx, cancel = context.WithCancel(ctx)
	run(cctx, stop)
}

var _ = []any{retry, reassigned}

// Waiting for the context to end ends it: past `<-sCtx.Done()` there is nothing to cancel.
func pace(ctx context.Context, try func(context.Context) bool) {
	for {
		sCtx, sCancel := context.WithTimeout(ctx, time.Millisecond)
		if try(sCtx) {
			sCancel()
			return
		}
		<-sCtx.Done()
	}
}

var _ = pace
