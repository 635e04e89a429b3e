// Package clean uses goroutines correctly: every goroutine its tests start has
// returned by the time the test does (or shortly after, for net/http's own
// connection goroutines, which exit once the server and client have closed).
// No test here leaks.
package clean

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// Map applies f to every element of in using up to workers goroutines and
// returns the results in order. All workers have returned when Map returns.
func Map[T, R any](ctx context.Context, in []T, workers int, f func(context.Context, T) (R, error)) ([]R, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	out := make([]R, len(in))
	idx := make(chan int)
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	for range max(1, workers) {
		wg.Go(func() {
			for i := range idx {
				r, err := f(ctx, in[i])
				if err != nil {
					once.Do(func() { firstErr = err; cancel() })
					continue
				}
				out[i] = r
			}
		})
	}
feed:
	for i := range in {
		select {
		case idx <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(idx)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, ctx.Err()
}

// Poller calls fn every interval on its own goroutine until Stop.
type Poller struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// StartPoller starts polling.
func StartPoller(interval time.Duration, fn func()) *Poller {
	ctx, cancel := context.WithCancel(context.Background())
	p := &Poller{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				fn()
			}
		}
	}()
	return p
}

// Stop cancels the poller and waits until its goroutine has returned.
func (p *Poller) Stop() {
	p.cancel()
	<-p.done
}

// StatusHandler answers every request with {"status":"ok","path":...}.
func StatusHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"status": "ok", "path": r.URL.Path})
	})
}
