// Command workerpool is a healthy, idle worker pool: a fixed number of
// workers ranging over a jobs channel and one dispatcher selecting on its
// request and quit channels. After a few jobs everything is idle. Nothing
// here leaks: closing quit stops the dispatcher, which closes jobs, which
// stops the workers.
//
//   - main.worker, -workers of them     [chan receive]  for job := range jobs
//
//   - main.(*Pool).dispatch, one        [select]
//
//     workerpool [-workers 8] [-jobs 20] [-form debug2] [-o file] [-wait 0] [-serve addr]
package main

import (
	"flag"
	"fmt"
	"os"
	"sync"

	"leakwatch.test/testdata/internal/dumpout"
)

type job struct{ id int }

// Pool is a fixed-size worker pool fed by a dispatcher.
type Pool struct {
	requests chan job
	jobs     chan job
	quit     chan struct{}
	done     sync.WaitGroup
	mu       sync.Mutex
	handled  int
	lastJob  int
}

func worker(id int, p *Pool, jobs <-chan job) {
	defer p.done.Done()
	for j := range jobs {
		p.mu.Lock()
		p.handled++
		p.lastJob = j.id
		p.mu.Unlock()
	}
}

func (p *Pool) dispatch() {
	defer close(p.jobs)
	for {
		select {
		case j := <-p.requests:
			p.jobs <- j
		case <-p.quit:
			return
		}
	}
}

// NewPool starts n workers and the dispatcher.
func NewPool(n int) *Pool {
	p := &Pool{
		requests: make(chan job),
		jobs:     make(chan job),
		quit:     make(chan struct{}),
	}
	for i := 0; i < n; i++ {
		p.done.Add(1)
		go worker(i, p, p.jobs)
	}
	go p.dispatch()
	return p
}

// Stop shuts the pool down and waits for the workers.
func (p *Pool) Stop() {
	close(p.quit)
	p.done.Wait()
}

var pool *Pool // the running pool, still owned by main

func main() {
	workers := flag.Int("workers", 8, "number of workers")
	njobs := flag.Int("jobs", 20, "jobs to run before going idle")
	dump := dumpout.Register(flag.CommandLine, "debug2")
	flag.Parse()
	if err := dump.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "workerpool:", err)
		os.Exit(2)
	}
	pool = NewPool(*workers)
	for i := 0; i < *njobs; i++ {
		pool.requests <- job{id: i}
	}
	dump.Main()
}
