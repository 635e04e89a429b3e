// Package good: Done runs on every way out of the goroutine.
package good

import "sync"

func each(items []string, do func(string) error) {
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if it == "" {
				return
			}
			_ = do(it)
		}()
	}
	wg.Wait()
}

func each2(items []string, do func(string) error) {
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Add(1)
		go func() {
			if it == "" {
				wg.Done()
				return
			}
			_ = do(it)
			wg.Done()
		}()
	}
	wg.Wait()
}

// The Done undoes the goroutine's own Add (a start that failed): it pairs with that Add.
func restart(wg *sync.WaitGroup, start func(func()) bool, quit <-chan struct{}) {
	go func() {
		for {
			select {
			case <-quit:
				return
			default:
			}
			wg.Add(1)
			if !start(func() { wg.Done() }) {
				wg.Done()
			}
		}
	}()
}
