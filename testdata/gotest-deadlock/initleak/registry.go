// Package initleak starts a goroutine from init that waits forever: no test left it, so
// leakwatch test must report it without naming a test, and say why.
package initleak

var updates = make(chan string)

func init() {
	go func() {
		for u := range updates { // BUG: nothing ever closes updates
			_ = u
		}
	}()
}

// Names returns a fixed list.
func Names() []string { return []string{"a", "b"} }
