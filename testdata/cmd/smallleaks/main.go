// Command smallleaks is a small service with four small leaks, each of the
// kind a count threshold misses, next to healthy goroutines of the shapes
// that look like leaks at first sight. Each leak strands 1-9 goroutines:
//
//   - main.queryReplica, -send of them        [chan send]         firstReply returned after the
//     first answer; the other replicas' goroutines block sending to an unbuffered channel
//   - main.(*cache).get, -lock of them        [sync.Mutex.Lock]   refresh returned early on an
//     error without Unlock; every later reader blocks (started with sync.WaitGroup.Go)
//   - main.awaitBatch, -wg of them            [sync.WaitGroup.Wait]  one item of each batch
//     returns without Done
//   - main.awaitResult, -recv of them         [chan receive]      the producer gave up on error
//     and never sends or closes
//
// Healthy, and never to be reported:
//
//   - main.(*pool).work, -workers of them     [chan receive]      a fixed pool, one owner
//   - main.probe, -targets of them            [select]            a loop per target with a ticker
//   - main.(*server).serve, one               [select]            a singleton event loop
//   - main.main.func1, one                    [chan receive]      waits for shutdown (<-ctx.Done())
//
// With -panic it crashes in a request instead of dumping: at GOTRACEBACK=single
// (the default) Go prints only the crashing goroutine; GOTRACEBACK=all prints
// every goroutine, leaks included.
//
// Run it with -wait 65s so the runtime prints ", 1 minutes" on the stranded
// goroutines (the receive leak is only told apart from an idle receive by that).
//
//	smallleaks [-panic] [-send 2] [-lock 4] [-wg 1] [-recv 1] [-workers 8] [-targets 20] [-form debug2] [-o file] [-wait 0]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"leakwatch.test/testdata/internal/dumpout"
)

// firstReply asks n replicas and returns the first answer. The channel is
// unbuffered, so the n-1 slower replicas block on their send forever.
func firstReply(n int) string {
	ch := make(chan string)
	for i := 0; i < n; i++ {
		go queryReplica(i, ch)
	}
	return <-ch
}

func queryReplica(i int, ch chan<- string) {
	time.Sleep(time.Duration(i) * time.Millisecond)
	ch <- fmt.Sprintf("replica %d", i)
}

type cache struct {
	mu    sync.Mutex
	items map[string]string
}

var errUpstream = errors.New("upstream unavailable")

// refresh forgets to Unlock on its error path.
func (c *cache) refresh(fail bool) error {
	c.mu.Lock()
	if fail {
		return errUpstream
	}
	c.items = map[string]string{}
	c.mu.Unlock()
	return nil
}

func (c *cache) get(k string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.items[k]
}

// awaitBatch waits for a batch of n items; the last item returns without Done.
func awaitBatch(n int) {
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			if i == n-1 {
				return // the early return that skips Done
			}
			wg.Done()
		}(i)
	}
	wg.Wait()
}

// awaitResult waits for a producer that gives up without sending or closing.
func awaitResult() {
	res := make(chan int)
	go func() {
		if err := errUpstream; err != nil {
			return
		}
		res <- 1
	}()
	<-res
}

// checksum computes forever: a goroutine that is running or runnable, not blocked.
func checksum(seed uint64) {
	for {
		seed = seed*6364136223846793005 + 1442695040888963407
		sink.Store(seed)
	}
}

var sink atomic.Uint64

// pending holds the channels of orders still expected; awaitOrder waits on one.
var pending []chan int

func awaitOrder(ch chan int) { <-ch }

// allocate builds and drops maps as fast as it can: it triggers GCs and assists them, and so
// is now and then caught for a moment on the runtime's own GC semaphore.
func allocate() {
	for {
		m := make(map[int][]byte, 64)
		for i := 0; i < 64; i++ {
			m[i] = make([]byte, 512)
		}
		allocSink.Store(&m)
	}
}

var allocSink atomic.Pointer[map[int][]byte]

type pool struct{ jobs chan int }

// queue is the service's long-lived pool: reachable from a global, as a
// server's pools are reachable from its server value.
var queue *pool

func (p *pool) work() {
	for range p.jobs {
	}
}

func probe(target string, stop <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			_ = target
		case <-stop:
			return
		}
	}
}

type server struct {
	events chan string
	stop   chan struct{}
}

func (s *server) serve() {
	for {
		select {
		case e := <-s.events:
			_ = e
		case <-s.stop:
			return
		}
	}
}

func main() {
	fs := flag.NewFlagSet("smallleaks", flag.ExitOnError)
	send := fs.Int("send", 2, "replica senders stranded")
	lock := fs.Int("lock", 4, "readers stranded on the cache lock")
	wg := fs.Int("wg", 1, "batch waiters stranded")
	recv := fs.Int("recv", 1, "result receivers stranded")
	workers := fs.Int("workers", 8, "healthy pool workers")
	targets := fs.Int("targets", 20, "healthy per-target probe loops")
	spin := fs.Int("spin", 0, "busy request goroutines computing (running or runnable, never blocked)")
	partial := fs.Int("partial", 0, "order waiters, each on its own channel; all but one channel stay reachable")
	allocators := fs.Int("alloc", 0, "request goroutines allocating hard, so some wait inside the runtime for a GC")
	crash := fs.Bool("panic", false, "instead of dumping, panic in a request goroutine (the traceback goes to stderr)")
	out := dumpout.Register(fs, "debug2")
	fs.Parse(os.Args[1:])

	// Healthy goroutines, started by main, which lives as long as the program.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-ctx.Done() // the shutdown watcher every service has
		fmt.Fprintln(os.Stderr, "shutting down")
	}()
	queue = &pool{jobs: make(chan int)}
	for i := 0; i < *workers; i++ {
		go queue.work()
	}
	for i := 0; i < 3; i++ {
		queue.jobs <- i
	}
	stop := make(chan struct{})
	for i := 0; i < *targets; i++ {
		go probe(fmt.Sprintf("target-%d", i), stop)
	}
	s := &server{events: make(chan string), stop: stop}
	go s.serve()
	s.events <- "started"

	// The leaks, each in a request handled on its own goroutine that then
	// returns, as a server would run them.
	var requests sync.WaitGroup
	handle := func(req func()) { requests.Go(req) }
	if *send > 0 {
		handle(func() { firstReply(*send + 1) })
	}
	c := &cache{items: map[string]string{}}
	handle(func() { _ = c.refresh(true) })
	requests.Wait()
	for i := 0; i < *lock; i++ {
		handle(func() {
			// A request that reads the cache in the background, without waiting for it.
			var readers sync.WaitGroup
			readers.Go(func() { c.get(fmt.Sprint(i)) })
		})
	}
	for i := 0; i < *wg; i++ {
		handle(func() { go awaitBatch(3) })
	}
	for i := 0; i < *recv; i++ {
		handle(func() { go awaitResult() })
	}
	for i := 0; i < *spin; i++ {
		handle(func() { go checksum(uint64(i)) })
	}
	for i := 0; i < *partial; i++ {
		ch := make(chan int)
		if i > 0 {
			pending = append(pending, ch) // reachable: a later request may still send
		}
		handle(func() { go awaitOrder(ch) })
	}
	for i := 0; i < *allocators; i++ {
		handle(func() { go allocate() })
	}
	requests.Wait()
	time.Sleep(50 * time.Millisecond)
	if *crash {
		handle(func() {
			var order map[string]int
			order["items"]++ // assignment to entry in nil map
		})
		requests.Wait()
	}
	out.Main()
}
