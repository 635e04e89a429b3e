package parallel

import (
	"context"
	"sync"
)

// Batch runs tasks on their own goroutines and waits for all of them.
type Batch struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
	errs   []error
}

// Go starts task unless the batch is closed.
//
// The bug: the WaitGroup is incremented before the closed check, and the
// rejection path forgets wg.Done. After one rejected Go, the count never
// reaches zero again.
func (b *Batch) Go(task func() error) error {
	b.wg.Add(1)
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return ErrClosed
	}
	go func() {
		defer b.wg.Done()
		if err := task(); err != nil {
			b.mu.Lock()
			b.errs = append(b.errs, err)
			b.mu.Unlock()
		}
	}()
	return nil
}

// Close rejects further tasks.
func (b *Batch) Close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
}

// Wait waits until every started task has returned, or until ctx is done,
// and returns the tasks' errors (or ctx's error). When ctx wins, the helper
// goroutine stays in wg.Wait until the count reaches zero.
func (b *Batch) Wait(ctx context.Context) ([]error, error) {
	done := make(chan struct{})
	go func() {
		b.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		b.mu.Lock()
		defer b.mu.Unlock()
		return append([]error(nil), b.errs...), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
