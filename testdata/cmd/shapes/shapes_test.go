package main

// These tests exist to produce real dumps from `go test`; every one of them
// skips unless its environment variable is set, so `go test ./...` stays
// green and fast.
//
//	SHAPES_SYNCTEST_OUT=FILE go test -run '^TestSynctestDump$' ./cmd/shapes
//	    writes runtime.Stack(buf, true) taken inside a testing/synctest bubble
//	    to FILE ("synctest bubble N", "(durable)" marks).
//	SHAPES_SYNCTEST_DEADLOCK=1 go test -run '^TestSynctestDeadlock$' ./cmd/shapes
//	    a bubble whose goroutines stay blocked after the test function
//	    returns: the test binary panics and prints the bubble's goroutines.
//	SHAPES_TEST_TIMEOUT=1 go test -timeout 2s -run '^TestHangs$' ./cmd/shapes
//	    a test that hangs: "panic: test timed out after 2s" and every goroutine.

import (
	"os"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

//go:noinline
func bubbleRecv(ch chan int) { <-ch }

//go:noinline
func bubbleSend(ch chan int) { ch <- 1 }

//go:noinline
func bubbleSelect(a, b chan int) {
	select {
	case <-a:
	case <-b:
	}
}

//go:noinline
func bubbleWaitGroup(wg *sync.WaitGroup) { wg.Wait() }

//go:noinline
func bubbleCond(c *sync.Cond, done *bool) {
	c.L.Lock()
	for !*done {
		c.Wait()
	}
	c.L.Unlock()
}

//go:noinline
func bubbleSleep(d time.Duration) { time.Sleep(d) }

//go:noinline
func bubbleMutex(mu *sync.Mutex) {
	mu.Lock()
	mu.Unlock()
}

func TestSynctestDump(t *testing.T) {
	out := os.Getenv("SHAPES_SYNCTEST_OUT")
	if out == "" {
		t.Skip("set SHAPES_SYNCTEST_OUT=FILE to write the synctest dump")
	}
	synctest.Test(t, func(t *testing.T) {
		recvCh, sendCh := make(chan int), make(chan int)
		selA, selB := make(chan int), make(chan int)
		var wg sync.WaitGroup
		wg.Add(1)
		cond := sync.NewCond(new(sync.Mutex))
		condDone := false

		go bubbleRecv(recvCh)
		go bubbleSend(sendCh)
		go bubbleSelect(selA, selB)
		go bubbleWaitGroup(&wg)
		go bubbleCond(cond, &condDone)
		go bubbleSleep(time.Hour)
		synctest.Wait() // every goroutine above is now durably blocked

		// A goroutine blocked on a mutex is not durably blocked, so it is
		// started after synctest.Wait and given real time to block.
		var mu sync.Mutex
		mu.Lock()
		go bubbleMutex(&mu)
		for i := 0; i < 100; i++ {
			runtime.Gosched()
		}

		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		if err := os.WriteFile(out, buf, 0o644); err != nil {
			t.Fatal(err)
		}

		// release everything so the bubble can end
		mu.Unlock()
		recvCh <- 1
		<-sendCh
		close(selA)
		wg.Done()
		cond.L.Lock()
		condDone = true
		cond.Broadcast()
		cond.L.Unlock()
		time.Sleep(2 * time.Hour) // fake time: the sleeper wakes up at once
	})
}

func TestSynctestDeadlock(t *testing.T) {
	if os.Getenv("SHAPES_SYNCTEST_DEADLOCK") == "" {
		t.Skip("set SHAPES_SYNCTEST_DEADLOCK=1 to run the bubble deadlock")
	}
	synctest.Test(t, func(t *testing.T) {
		go bubbleRecv(make(chan int)) // nobody ever sends: blocked forever
		var wg sync.WaitGroup
		wg.Add(1)
		go bubbleWaitGroup(&wg) // Done never called
	})
}

//go:noinline
func hangingHelper(ch chan struct{}) {
	<-ch
}

func TestHangs(t *testing.T) {
	if os.Getenv("SHAPES_TEST_TIMEOUT") == "" {
		t.Skip("set SHAPES_TEST_TIMEOUT=1 and run with -timeout 2s to see a test timeout")
	}
	// goroutines leaked by the code under test
	for i := 0; i < 3; i++ {
		go bubbleSend(make(chan int))
	}
	go bubbleRecv(nil)
	hangingHelper(make(chan struct{}))
}
