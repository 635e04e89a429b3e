// Package good holds tickers and timers whose owners release them: none may be reported.
package good

import (
	"context"
	"testing"
	"time"
)

func heartbeat(ctx context.Context, ping func()) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			ping()
		}
	}
}

// Stopped on the way out of a labeled loop: code after the loop runs only after the Stop.
func progress(done <-chan struct{}, report func()) {
	ticker := time.NewTicker(time.Second)
loop:
	for {
		select {
		case <-ticker.C:
			report()
		case <-done:
			ticker.Stop()
			break loop
		}
	}
}

// Handed to the caller, who owns it now.
func newTicker() *time.Ticker {
	t := time.NewTicker(time.Second)
	return t
}

// A timer that is only ever waited on fires and is done.
func sleep(d time.Duration) {
	t := time.NewTimer(d)
	<-t.C
}

type pinger struct {
	ticker *time.Ticker
}

func newPinger() *pinger { return &pinger{ticker: time.NewTicker(time.Second)} }

func (p *pinger) Close() { p.ticker.Stop() }

// A process-long ticker in main-like code that never returns.
func forever(work func()) {
	for range time.Tick(time.Second) {
		work()
	}
}

// A timer raced in a select and never stopped: it fires once and is collected (Go 1.23+).
func waitOnce(ctx context.Context, ch <-chan int) int {
	timer := time.NewTimer(time.Minute)
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		return -1
	}
}

var _ = []any{waitOnce, heartbeat, progress, newTicker, sleep, newPinger, forever, context.Background}

// Stopped by the goroutine that owns it, not by the function that made it.
func watch(done <-chan struct{}, f func()) {
	t := time.NewTicker(time.Second)
	go func() {
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				f()
			}
		}
	}()
}

// Stop handed to a cleanup registry (t.Cleanup(ticker.Stop) in a test helper).
func pollUntil(tb testing.TB, ok func() bool) {
	ticker := time.NewTicker(time.Millisecond)
	tb.Cleanup(ticker.Stop)
	for range ticker.C {
		if ok() {
			return
		}
	}
}

// A condition-less loop whose only way out stops the ticker first.
func drain(done <-chan struct{}, f func()) {
	t := time.NewTicker(time.Second)
	for {
		select {
		case <-t.C:
			f()
		case <-done:
			t.Stop()
			return
		}
	}
}

var _ = []any{watch, pollUntil, drain}
