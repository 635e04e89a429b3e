// Package parallel is a small concurrency toolkit (a worker pool, a task
// batch, a timeout runner) whose tests run with t.Parallel; some of them leak
// on purpose. LEAKS.md (one directory up) lists which and where.
package parallel

import (
	"context"
	"errors"
	"sync"
)

// ErrClosed is returned when work is submitted after Close.
var ErrClosed = errors.New("parallel: closed")

// Pool runs submitted jobs on a fixed number of worker goroutines. The
// workers live until Stop; a Pool that is never stopped leaks all of them.
type Pool struct {
	jobs chan func()
	wg   sync.WaitGroup
	once sync.Once
}

// NewPool starts n workers.
func NewPool(n int) *Pool {
	p := &Pool{jobs: make(chan func())}
	p.wg.Add(n)
	for range n {
		go p.worker()
	}
	return p
}

func (p *Pool) worker() {
	defer p.wg.Done()
	for job := range p.jobs {
		job()
	}
}

// Submit hands job to a free worker, waiting for one if all are busy.
func (p *Pool) Submit(ctx context.Context, job func()) error {
	select {
	case p.jobs <- job:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stop lets the workers finish their current job and waits until they exit.
// It may be called more than once; Submit must not be called after Stop.
func (p *Pool) Stop() {
	p.once.Do(func() { close(p.jobs) })
	p.wg.Wait()
}
