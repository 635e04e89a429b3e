// Package good holds goroutines with a known exit, or that live as long as the process by
// design: none may be reported.
package good

import (
	"context"
	"sync"
	"time"
)

var sink int

func handle(ctx context.Context, req int) {
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
				sink += req
			}
		}
	}()
}

func drain(ch <-chan int) {
	go func() {
		for {
			v, ok := <-ch
			if !ok {
				break
			}
			sink += v
		}
	}()
}

var once sync.Once

func startJanitor() {
	once.Do(func() {
		go func() {
			for {
				time.Sleep(time.Minute)
				sink = 0
			}
		}()
	})
}

func init() {
	go func() {
		for {
			time.Sleep(time.Hour)
		}
	}()
}

var _ = []any{handle, drain, startJanitor}
