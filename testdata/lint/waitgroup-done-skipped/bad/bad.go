// Package bad: a goroutine skips its wg.Done on an early return.
package bad

import "sync"

func each(items []string, do func(string) error) {
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Add(1)
		go func() {
			if it == "" {
				return // want: waitgroup-done-skipped
			}
			_ = do(it)
			wg.Done()
		}()
	}
	wg.Wait()
}
