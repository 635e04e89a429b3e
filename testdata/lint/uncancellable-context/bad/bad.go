// Package bad holds the shapes uncancellable-context must report.
package bad

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

func startPolling(f func()) {
	go poll(context.Background(), f) // want: uncancellable-context
}

func watch(events <-chan string, handle func(string)) {
	ctx := context.Background()
	for {
		select {
		case <-ctx.Done(): // want: uncancellable-context
			return
		case e := <-events:
			handle(e)
		}
	}
}

var _ = []any{startPolling, watch}
