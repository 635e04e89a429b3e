// Package good: Add before the go statement, including inside a goroutine that starts others.
// None may be reported.
package good

import "sync"

func fanOut(jobs []func()) {
	var wg sync.WaitGroup
	for _, job := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			job()
		}()
	}
	wg.Wait()
}

func nested(batches [][]func()) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, b := range batches {
			for _, job := range b {
				wg.Add(1)
				go func() {
					defer wg.Done()
					job()
				}()
			}
		}
	}()
	wg.Wait()
}

// Add before a goroutine that a helper starts: it counts that goroutine, not this one.
func viaHelper(start func(func()), jobs <-chan func()) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for job := range jobs {
			wg.Add(1)
			start(func() {
				defer wg.Done()
				job()
			})
		}
	}()
	wg.Wait()
}

var _ = []any{fanOut, nested, viaHelper}
