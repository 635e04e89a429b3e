// Package bad holds the shape waitgroup-add-in-goroutine must report.
package bad

import "sync"

func fanOut(jobs []func()) {
	var wg sync.WaitGroup
	for _, job := range jobs {
		go func() {
			wg.Add(1) // want: waitgroup-add-in-goroutine
			defer wg.Done()
			job()
		}()
	}
	wg.Wait()
}

var _ = fanOut
