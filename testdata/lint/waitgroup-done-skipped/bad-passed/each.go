package bad

import "sync"

func each(items []string, do func(string) error) {
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Add(1)
		go work(&wg, it, do)
	}
	wg.Wait() // partner: waitgroup-done-skipped
}
