// Command anchors leaks goroutines the ways the "memory anchors" article
// describes, each from its own clearly named function, then writes a
// goroutine dump (see internal/dumpout for -form, -o, -wait, -serve).
//
//	anchors [-n 40] [-counts name=N,...] [-only name] [-list] [-form debug2] [-o file] [-wait 0] [-serve addr]
//
// Every anchor leaks exactly its count of goroutines (-n, or the -counts
// override). Anchors, with the function the leaked goroutines are blocked in
// and their wait reason:
//
//	fire-and-forget main.handleRequestFireAndForget.func1  sleep (loops forever: work(); time.Sleep)
//	chan-send       main.fetchWithTimeout.func1            chan send (ch <- &BigStruct{}, caller timed out)
//	chan-recv       main.awaitResult                       chan receive (nobody ever sends or closes)
//	context         main.doWork                            select (ctx is context.Background(), ticker)
//	nil-send        main.sendOnNilChan                     chan send (nil chan)
//	nil-recv        main.recvOnNilChan                     chan receive (nil chan)
//	select-empty    main.blockForever                      select (no cases)
//	mutex           main.lockGuarded                       sync.Mutex.Lock (holder returned without Unlock)
//	waitgroup       main.waitForAll                        sync.WaitGroup.Wait (Done never called)
//	cond            main.waitForSignal                     sync.Cond.Wait (never signalled)
//	rwmutex         main.readGuarded                       sync.RWMutex.RLock (writer returned without Unlock)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"leakwatch.test/testdata/internal/dumpout"
)

// BigStruct is what a blocked sender pins in memory.
type BigStruct struct {
	Payload [64 << 10]byte
}

var sink int

func work() { sink++ }

// ---- fire-and-forget: an immortal goroutine started per request ----

func handleRequestFireAndForget(req int) {
	go func() {
		for {
			work()
			time.Sleep(10 * time.Second)
		}
	}()
}

func anchorFireAndForget(n int) {
	for i := 0; i < n; i++ {
		handleRequestFireAndForget(i)
	}
}

// ---- chan-send: unbuffered send nobody receives; the caller timed out ----

var releaseProducers = make(chan struct{})

func fetchWithTimeout(req int) *BigStruct {
	ch := make(chan *BigStruct)
	go func() {
		<-releaseProducers // the "slow backend": answers only after every caller gave up
		ch <- &BigStruct{}
	}()
	select {
	case r := <-ch:
		return r
	case <-time.After(time.Millisecond):
		return nil // timeout: nobody will ever read ch
	}
}

func anchorChanSend(n int) {
	for i := 0; i < n; i++ {
		fetchWithTimeout(i)
	}
	close(releaseProducers)
}

// ---- chan-recv: a consumer waiting for a result nobody sends ----

func awaitResult(results chan *BigStruct) {
	r := <-results
	_ = r
}

func startResultConsumers(n int) {
	for i := 0; i < n; i++ {
		go awaitResult(make(chan *BigStruct))
	}
}

// ---- context: go doWork(context.Background()) has no stop signal ----

func doWork(ctx context.Context) {
	ticker := time.NewTicker(30 * time.Second)
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			work()
		}
	}
}

func startBackgroundWorkers(n int) {
	for i := 0; i < n; i++ {
		go doWork(context.Background())
	}
}

// ---- nil channels ----

func sendOnNilChan() {
	var ch chan *BigStruct
	ch <- &BigStruct{}
}

func recvOnNilChan() {
	var ch chan *BigStruct
	<-ch
}

func startNilSenders(n int) {
	for i := 0; i < n; i++ {
		go sendOnNilChan()
	}
}

func startNilReceivers(n int) {
	for i := 0; i < n; i++ {
		go recvOnNilChan()
	}
}

// ---- select {} ----

func blockForever() {
	select {}
}

func startBlockForever(n int) {
	for i := 0; i < n; i++ {
		go blockForever()
	}
}

// ---- sync.Mutex never unlocked: a mutex-protected struct ----

// guardedCache is the "mutex-protected struct" anchor: its lock is held by a
// caller that returned early without unlocking it.
type guardedCache struct {
	mu    sync.Mutex
	items map[string]*BigStruct
}

func lockGuarded(c *guardedCache) {
	c.mu.Lock()
	c.items["k"] = nil
	c.mu.Unlock()
}

func lockAndForget(n int) {
	c := &guardedCache{items: map[string]*BigStruct{}}
	c.mu.Lock() // the early return that forgot c.mu.Unlock()
	for i := 0; i < n; i++ {
		go lockGuarded(c)
	}
}

// ---- sync.WaitGroup never Done ----

func waitForAll(wg *sync.WaitGroup) {
	wg.Wait()
}

func forgetDone(n int) {
	wg := new(sync.WaitGroup)
	wg.Add(1) // nobody calls wg.Done()
	for i := 0; i < n; i++ {
		go waitForAll(wg)
	}
}

// ---- sync.Cond never signalled ----

func waitForSignal(c *sync.Cond) {
	c.L.Lock()
	c.Wait()
	c.L.Unlock()
}

func neverSignal(n int) {
	c := sync.NewCond(new(sync.Mutex))
	for i := 0; i < n; i++ {
		go waitForSignal(c)
	}
}

// ---- sync.RWMutex write-locked and never released ----

func readGuarded(rw *sync.RWMutex) {
	rw.RLock()
	work()
	rw.RUnlock()
}

func holdWriteLock(n int) {
	rw := new(sync.RWMutex)
	rw.Lock() // never unlocked
	for i := 0; i < n; i++ {
		go readGuarded(rw)
	}
}

type anchor struct {
	name  string
	start func(n int)
}

var anchors = []anchor{
	{"fire-and-forget", anchorFireAndForget},
	{"chan-send", anchorChanSend},
	{"chan-recv", startResultConsumers},
	{"context", startBackgroundWorkers},
	{"nil-send", startNilSenders},
	{"nil-recv", startNilReceivers},
	{"select-empty", startBlockForever},
	{"mutex", lockAndForget},
	{"waitgroup", forgetDone},
	{"cond", neverSignal},
	{"rwmutex", holdWriteLock},
}

func parseCounts(s string) (map[string]int, error) {
	m := map[string]int{}
	if s == "" {
		return m, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("bad -counts entry %q (want name=N)", kv)
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("bad count in %q", kv)
		}
		m[strings.TrimSpace(k)] = n
	}
	return m, nil
}

func main() {
	n := flag.Int("n", 40, "goroutines leaked by each anchor")
	countsFlag := flag.String("counts", "", "per-anchor overrides of -n, e.g. mutex=3,cond=7")
	only := flag.String("only", "", "run only this anchor (see -list)")
	list := flag.Bool("list", false, "print the anchor names and exit")
	dump := dumpout.Register(flag.CommandLine, "debug2")
	flag.Parse()

	if *list {
		for _, a := range anchors {
			fmt.Println(a.name)
		}
		return
	}
	counts, err := parseCounts(*countsFlag)
	if err != nil {
		fmt.Fprintln(os.Stderr, "anchors:", err)
		os.Exit(2)
	}
	names := map[string]bool{}
	for _, a := range anchors {
		names[a.name] = true
	}
	var bad []string
	for k := range counts {
		if !names[k] {
			bad = append(bad, k)
		}
	}
	if *only != "" && !names[*only] {
		bad = append(bad, *only)
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		fmt.Fprintf(os.Stderr, "anchors: unknown anchor(s) %s (see -list)\n", strings.Join(bad, ", "))
		os.Exit(2)
	}
	if err := dump.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "anchors:", err)
		os.Exit(2)
	}

	for _, a := range anchors {
		if *only != "" && a.name != *only {
			continue
		}
		c := *n
		if v, ok := counts[a.name]; ok {
			c = v
		}
		a.start(c)
	}
	dump.Main()
}
