// Package good: contexts a goroutine's owner can cancel. None may be reported.
package good

import (
	"context"
	"time"
)

func poll(ctx context.Context, f func()) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
			f()
		}
	}
}

type poller struct{ cancel context.CancelFunc }

func startPolling(f func()) *poller {
	ctx, cancel := context.WithCancel(context.Background())
	go poll(ctx, f)
	return &poller{cancel: cancel}
}

func (p *poller) Stop() { p.cancel() }

// A one-shot call with Background is fine: it does not loop.
func once(do func(context.Context)) {
	go do(context.Background())
}

func watch(events <-chan string, handle func(string)) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-events:
			handle(e)
		}
	}
}

var _ = []any{startPolling, once, watch}
