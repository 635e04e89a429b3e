// Command shapes produces goroutine dumps that exhibit one format edge case
// each, selected with -mode. Modes that end the process (panic, deadlock,
// sigquit, system, crash) write the runtime's own traceback to stderr; the
// others write a dump with internal/dumpout (-form, -o, -wait, -serve).
//
//	shapes -mode MODE [-depth 300] [-form debug2] [-o file] [-wait 0] [-serve addr]
//
// Modes:
//
//	deep       a goroutine blocked 300 calls deep (-depth): "...N frames elided..."
//	generics   blocked inside generic functions and methods of generic types: F[...], (*T[...]).M
//	closures   nested closures (funcN.funcM), a method value (-fm), go f(x) wrappers, glob..funcN
//	locked     runtime.LockOSThread goroutine blocked: ", locked to thread"
//	labels     goroutines under pprof.Do labels; sets GODEBUG=tracebacklabels=1 itself
//	           when GODEBUG does not mention tracebacklabels
//	ancestors  a chain of goroutines; needs GODEBUG=tracebackancestors=N (re-executes itself
//	           with tracebackancestors=5 when GODEBUG does not mention it)
//	leaked     leaking and healthy goroutines; default -form leak-debug2, so the binary must be
//	           built with GOEXPERIMENT=goroutineleakprofile
//	panic      an unrecovered panic in a handler goroutine while others are blocked and one
//	           busy-loops; traceback level "all" (stderr, exit status 2)
//	sigquit    sends itself SIGQUIT once settled (stderr, exit status 2); with -external it
//	           prints "ready <pid>" and waits for an outside kill -QUIT instead
//	system     like panic with traceback level "system": gp= m= headers, fp= sp= pc=, runtime frames
//	crash      like panic with traceback level "crash": system output, then SIGABRT
//
// The synctest and test-timeout dumps come from shapes_test.go (see there);
// the deadlock dump comes from cmd/deadlock (a program that imports package
// net, as this one does, links cgo, and the runtime does not detect deadlocks
// in cgo programs).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"

	"leakwatch.test/testdata/internal/dumpout"
)

var modes = map[string]func(){
	"deep":      modeDeep,
	"generics":  modeGenerics,
	"closures":  modeClosures,
	"locked":    modeLocked,
	"labels":    modeLabels,
	"ancestors": modeAncestors,
	"leaked":    modeLeaked,
	"panic":     func() { modePanic("all", false) },
	"sigquit":   modeSigquit,
	"system":    func() { modePanic("system", true) },
	"crash":     modeCrash,
}

var (
	depth    = flag.Int("depth", 300, "recursion depth for -mode deep")
	repanic  = flag.Bool("repanic", false, "-mode panic/system: recover in the handler and panic again")
	external = flag.Bool("external", false, "-mode sigquit: print \"ready <pid>\" and wait for an external SIGQUIT")
	dump     *dumpout.Options
)

// never is a channel nobody sends on; goroutines that should stay blocked
// but are not leaks wait on it (it is reachable from a global).
var never = make(chan int)

func main() {
	mode := flag.String("mode", "", "edge case to produce (see the package comment)")
	dump = dumpout.Register(flag.CommandLine, "")
	flag.Parse()
	run, ok := modes[*mode]
	if !ok {
		var names []string
		for k := range modes {
			names = append(names, k)
		}
		fmt.Fprintf(os.Stderr, "shapes: -mode must be one of %s\n", strings.Join(sortStrings(names), ", "))
		os.Exit(2)
	}
	if dump.Form == "" {
		dump.Form = "debug2"
		if *mode == "leaked" {
			dump.Form = "leak-debug2"
		}
	}
	if err := dump.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "shapes:", err)
		os.Exit(2)
	}
	run()
}

func sortStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

// ---- deep ----

//go:noinline
func recurse(n int, ch chan int) int {
	if n == 0 {
		return <-ch
	}
	return recurse(n-1, ch) + 1
}

func modeDeep() {
	go recurse(*depth, never)
	dump.Main()
}

// ---- generics ----

// Number is a type-set constraint.
type Number interface {
	~int | ~int64 | ~float64
}

//go:noinline
func Sum[T Number](in <-chan T) T {
	var total T
	for v := range in {
		total += v
	}
	return total
}

//go:noinline
func WaitFor[K comparable, V any](m map[K]V, key K, ready <-chan struct{}) V {
	<-ready
	return m[key]
}

// Queue is a generic type with pointer-receiver methods.
type Queue[T any] struct {
	items chan T
}

//go:noinline
func (q *Queue[T]) Pop() T {
	return <-q.items
}

// Pair is a generic type with a value-receiver method.
type Pair[K comparable, V any] struct {
	Key   K
	Value V
	wait  chan struct{}
}

//go:noinline
func (p Pair[K, V]) Await() V {
	<-p.wait
	return p.Value
}

var (
	intQueue    = &Queue[int]{items: make(chan int)}
	stringQueue = &Queue[string]{items: make(chan string)}
	floatCh     = make(chan float64)
	readyCh     = make(chan struct{})
)

func modeGenerics() {
	go Sum[int](make(chan int))
	go Sum(floatCh)
	go WaitFor(map[string]int{"a": 1}, "a", readyCh)
	go intQueue.Pop()
	go stringQueue.Pop()
	go Pair[string, []byte]{Key: "k", wait: readyCh}.Await()
	dump.Main()
}

// ---- closures ----

type server struct {
	name  string
	conns chan int
}

//go:noinline
func (s *server) loop() {
	for c := range s.conns {
		_ = c
	}
}

//go:noinline
func (s *server) drain() {
	for range s.conns {
	}
}

//go:noinline
func callIt(f func()) {
	f()
}

//go:noinline
func (s server) handle(id int, done chan struct{}) {
	<-done
}

//go:noinline
func process(id int, name string, in chan int) {
	for v := range in {
		_ = v + id
	}
}

// pkgLevel is a package-level function literal (compiled as glob..func1).
var pkgLevel = func(ch chan int) {
	for range ch {
	}
}

func startClosures() {
	done := make(chan struct{})
	s := &server{name: "api", conns: make(chan int)}

	// nested closures
	go func() {
		inner := func() {
			innermost := func() {
				<-done
			}
			innermost()
			runtime.Gosched()
		}
		inner()
		runtime.Gosched()
	}()

	// nested closures that are not inlined: called through a func value
	go callIt(func() {
		callIt(func() {
			callIt(func() {
				<-done
			})
		})
	})

	// method values, started with go and called through a func value
	loop := s.loop
	go loop()
	go callIt(s.drain)

	// go f(x): the compiler wraps the call in funcN.gowrapN / startClosures.gowrapN
	go process(7, "seven", never)
	go s.handle(1, done)
	go pkgLevel(never)

	// closure inside a closure started with go from a closure
	go func() {
		go func() {
			select {
			case <-done:
			case <-never:
			}
		}()
		<-done
	}()
	keep = append(keep, done)
}

var keep []chan struct{}

func modeClosures() {
	startClosures()
	dump.Main()
}

// ---- locked ----

//go:noinline
func lockedWorker(ch chan int) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	<-ch
}

func modeLocked() {
	go lockedWorker(never)
	dump.Main()
}

// ---- labels ----

//go:noinline
func labelledHandler(ctx context.Context, ch chan int) {
	<-ch
}

func modeLabels() {
	if !strings.Contains(os.Getenv("GODEBUG"), "tracebacklabels") {
		g := os.Getenv("GODEBUG")
		if g != "" {
			g += ","
		}
		// The runtime re-reads GODEBUG when it is changed with os.Setenv.
		os.Setenv("GODEBUG", g+"tracebacklabels=1")
	}
	ctx := context.Background()
	sets := []pprof.LabelSet{
		pprof.Labels("handler", "checkout", "region", "eu-west-1"),
		pprof.Labels("handler", "checkout", "region", "us-east-2"),
		pprof.Labels("user id", "u 42", "path", "/api/v1/items?id=7&x=\"q\""),
		pprof.Labels("tenant", "café", "note", "tab\there\nnewline", "empty", ""),
	}
	for i, ls := range sets {
		for j := 0; j <= i%2; j++ {
			go pprof.Do(ctx, ls, func(ctx context.Context) {
				labelledHandler(ctx, never)
			})
		}
	}
	// labels inherited by a goroutine started inside pprof.Do
	pprof.Do(ctx, pprof.Labels("worker", "inherited"), func(ctx context.Context) {
		go labelledHandler(ctx, never)
	})
	// no labels
	go labelledHandler(ctx, never)
	dump.Main()
}

// ---- ancestors ----

//go:noinline
func ancestorLeaf(ch chan int) {
	<-ch
}

//go:noinline
func ancestorMiddle(ch chan int, started chan struct{}) {
	go ancestorLeaf(ch)
	close(started)
}

//go:noinline
func ancestorRoot(ch chan int, started chan struct{}) {
	inner := make(chan struct{})
	go ancestorMiddle(ch, inner)
	<-inner
	close(started)
	<-ch // the root stays blocked too
}

func modeAncestors() {
	if !strings.Contains(os.Getenv("GODEBUG"), "tracebackancestors") {
		// tracebackancestors is only read at start-up: re-execute.
		g := os.Getenv("GODEBUG")
		if g != "" {
			g += ","
		}
		cmd := exec.Command(os.Args[0], os.Args[1:]...)
		cmd.Env = append(os.Environ(), "GODEBUG="+g+"tracebackancestors=5")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				os.Exit(ee.ExitCode())
			}
			fmt.Fprintln(os.Stderr, "shapes:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	started := make(chan struct{})
	go ancestorRoot(never, started)
	<-started
	// a goroutine whose parent exited
	done := make(chan struct{})
	go func() {
		go ancestorLeaf(never)
		close(done)
	}()
	<-done
	dump.Main()
}

// ---- leaked ----

//go:noinline
func leakySend(ch chan []byte) {
	ch <- make([]byte, 1024)
}

//go:noinline
func leakyRecv(ch chan int) {
	<-ch
}

//go:noinline
func leakySelect(a, b chan int) {
	select {
	case <-a:
	case b <- 1:
	}
}

//go:noinline
func healthyWait(ch chan int) {
	<-ch
}

func modeLeaked() {
	for i := 0; i < 3; i++ {
		go leakySend(make(chan []byte))
		go leakySelect(make(chan int), make(chan int))
	}
	go leakyRecv(nil)
	wg := new(sync.WaitGroup)
	wg.Add(1)
	go func() { wg.Wait() }()
	// not leaked: never is reachable from a global
	go healthyWait(never)
	go healthyWait(never)
	dump.Main()
}

// ---- panic / system / crash ----

var spin uint64

// busyLoop never reaches a preemption point other than an asynchronous
// preemption signal; with GODEBUG=asyncpreemptoff=1 a crash dump cannot stop
// it and prints "goroutine running on other thread; stack unavailable".
//
//go:noinline
func busyLoop() {
	for {
		spin++
	}
}

type order struct {
	id       int
	items    []string
	customer *customer
}

type customer struct{ name string }

//go:noinline
func processOrder(o *order, nilDeref bool) {
	if nilDeref {
		fmt.Fprintln(io.Discard, o.customer.name) // o.customer is nil
	}
	if len(o.items) == 0 {
		panic(fmt.Sprintf("order %d has no items", o.id))
	}
}

//go:noinline
func handleOrders(orders chan *order, nilDeref, repanic bool, wg *sync.WaitGroup) {
	defer wg.Done()
	if repanic {
		defer func() {
			if r := recover(); r != nil {
				fmt.Fprintln(os.Stderr, "handleOrders: recovered, re-panicking:", r)
				panic(r)
			}
		}()
	}
	for o := range orders {
		processOrder(o, nilDeref)
	}
}

// startBlocked starts goroutines blocked in a few different ways.
func startBlocked(locked bool) {
	go recurse(3, never)
	if locked {
		go lockedWorker(never)
	}
	go process(1, "one", never) // go f(x): a gowrap wrapper, visible at level system
	s := &server{name: "s", conns: make(chan int)}
	go callIt(s.drain) // method value: a -fm wrapper, visible at level system
	keepServers = append(keepServers, s)
	var mu sync.Mutex
	mu.Lock()
	go func() { mu.Lock() }()
}

var keepServers []*server

// modePanic panics in a handler goroutine at the given traceback level;
// nilDeref makes it a nil pointer dereference (a SIGSEGV turned into a panic).
func modePanic(level string, nilDeref bool) {
	debug.SetTraceback(level)
	startBlocked(true)
	go busyLoop()
	dumpout.Settle()
	orders := make(chan *order)
	var wg sync.WaitGroup
	wg.Add(1)
	go handleOrders(orders, nilDeref, *repanic, &wg)
	orders <- &order{id: 42}
	wg.Wait()
}

// modeCrash sets traceback level crash and sends itself SIGQUIT: the
// runtime dumps every goroutine, then every M ("-----" separated, with
// registers), then aborts with SIGABRT.
func modeCrash() {
	debug.SetTraceback("crash")
	startBlocked(true)
	go busyLoop()
	dumpout.Settle()
	syscall.Kill(os.Getpid(), syscall.SIGQUIT)
	time.Sleep(10 * time.Second)
	fmt.Fprintln(os.Stderr, "shapes: SIGQUIT did not end the process")
	os.Exit(1)
}

// ---- sigquit ----

func modeSigquit() {
	startBlocked(true)
	dumpout.Settle()
	if *external {
		fmt.Printf("ready %d\n", os.Getpid())
		os.Stdout.Sync()
		for {
			time.Sleep(time.Hour) // a pending timer also keeps deadlock detection quiet
		}
	}
	syscall.Kill(os.Getpid(), syscall.SIGQUIT)
	time.Sleep(10 * time.Second)
	fmt.Fprintln(os.Stderr, "shapes: SIGQUIT did not end the process")
	os.Exit(1)
}
