// Command starters parks one goroutine on a held lock for each standard
// library function that starts a goroutine for its caller, then dumps:
//
//   - sync.(*WaitGroup).Go     created by sync.(*WaitGroup).Go (waitgroup.go)
//   - time.AfterFunc           created by time.goFunc (sleep.go)
//   - context.AfterFunc        created by context.(*afterFuncCtx).cancel.func1 (context.go)
//
// In each, the function the caller handed over is the outermost frame of
// the caller's own code.
//
//	starters [-form debug2] [-o file]
package main

import (
	"context"
	"flag"
	"os"
	"sync"
	"time"

	"leakwatch.test/testdata/internal/dumpout"
)

func main() {
	fs := flag.NewFlagSet("starters", flag.ExitOnError)
	out := dumpout.Register(fs, "debug2")
	fs.Parse(os.Args[1:])

	var mu sync.Mutex
	mu.Lock()
	var wg sync.WaitGroup
	wg.Go(func() { mu.Lock() })
	time.AfterFunc(0, func() { mu.Lock() })
	ctx, cancel := context.WithCancel(context.Background())
	context.AfterFunc(ctx, func() { mu.Lock() })
	cancel()
	out.Main()
}
