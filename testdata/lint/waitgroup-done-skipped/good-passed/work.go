// Package good: the worker the WaitGroup is handed to defers its Done.
package good

import "sync"

func work(wg *sync.WaitGroup, item string, do func(string) error) {
	defer wg.Done()
	if item == "" {
		return
	}
	_ = do(item)
}

func each(items []string, do func(string) error) {
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Add(1)
		go work(&wg, it, do)
	}
	wg.Wait()
}
