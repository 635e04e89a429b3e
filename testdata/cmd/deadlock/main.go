// Command deadlock blocks every goroutine so that the runtime aborts with
// "fatal error: all goroutines are asleep - deadlock!" and prints all
// goroutines to stderr (exit status 2). It takes no flags.
//
// It is a separate program, without internal/dumpout, because importing
// package net (which net/http/pprof does) links cgo when CGO_ENABLED=1, and
// the runtime does not detect deadlocks in programs that use cgo: such a
// program would hang instead.
package main

import (
	"sync"
)

type job struct{ id int }

//go:noinline
func consume(jobs chan job) {
	for j := range jobs {
		_ = j
	}
}

//go:noinline
func waitBoth(a, b chan struct{}) {
	select {
	case <-a:
	case <-b:
	}
}

//go:noinline
func lockTwice(mu *sync.Mutex) {
	mu.Lock()
	mu.Lock()
}

func main() {
	jobs := make(chan job)
	a, b := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	go consume(jobs)
	go waitBoth(a, b)
	go lockTwice(&mu)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		jobs <- job{1}
		<-a
	}()
	wg.Wait()
}
