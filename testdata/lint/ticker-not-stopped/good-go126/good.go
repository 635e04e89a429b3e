// Package good: unstopped tickers that Go 1.23 and later collect, because the goroutine or
// function holding them ends. None may be reported under testdata/go.mod's Go 1.26.
package good

import (
	"context"
	"time"
)

// Returns: the ticker is unreferenced afterwards and collected.
func poll(check func() bool) {
	t := time.NewTicker(time.Millisecond)
	for range t.C {
		if check() {
			return
		}
	}
}

// time.Tick in a function that returns: collected too.
func ticks(n int) int {
	got := 0
	for range time.Tick(time.Millisecond) {
		got++
		if got == n {
			break
		}
	}
	return got
}

// The goroutine's context is cancelled when Run returns.
func Run(parent context.Context, work func()) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	go beat(ctx, work)
	work()
}

func beat(ctx context.Context, ping func()) {
	t := time.NewTicker(time.Second)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			ping()
		}
	}
}

// The cancel is stored, and the method that calls it is called.
type worker struct{ stop context.CancelFunc }

func Start(f func()) *worker {
	ctx, cancel := context.WithCancel(context.Background())
	w := &worker{stop: cancel}
	go func() {
		t := time.NewTicker(time.Second)
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				f()
			}
		}
	}()
	return w
}

func (w *worker) close() { w.stop() }

func (w *worker) Close() { w.close() }

var _ = []any{poll, ticks}
