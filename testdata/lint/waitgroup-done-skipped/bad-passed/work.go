// Package bad: the WaitGroup is handed to a worker declared elsewhere, whose early return skips
// its Done.
package bad

import "sync"

func work(wg *sync.WaitGroup, item string, do func(string) error) {
	if item == "" {
		return // want: waitgroup-done-skipped
	}
	_ = do(item)
	wg.Done()
}
