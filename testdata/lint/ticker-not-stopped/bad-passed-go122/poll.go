// Package bad: under Go 1.22 a ticker handed to a helper or a goroutine that never stops it is
// never collected.
package bad

import "time"

// Poll hands its ticker to wait, which returns without stopping it.
func Poll(f func() bool) {
	t := time.NewTicker(time.Second) // want: ticker-not-stopped
	wait(t, f)
}

func wait(t *time.Ticker, f func() bool) {
	for range t.C {
		if f() {
			return // partner: ticker-not-stopped
		}
	}
}

// Watch hands it to a goroutine, through a literal's parameter.
func Watch(f func() bool) {
	tick := time.NewTicker(time.Second) // want: ticker-not-stopped
	go func(t *time.Ticker) {
		for range t.C {
			if !f() {
				return // partner: ticker-not-stopped
			}
		}
	}(tick)
}
