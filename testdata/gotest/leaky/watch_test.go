package leaky

import "testing"

// TestZeroWatcherLeaks starts the loop of a zero Watcher (not made with
// NewWatcher): its 1 goroutine ranges over a nil channel and never returns.
func TestZeroWatcherLeaks(t *testing.T) {
	var w Watcher
	w.Start(func(Event) {})
	// Emit or Close would block or panic on the nil channel, so the test
	// only checks that Start returned.
}

// TestWatcherDelivers uses NewWatcher and Close: the loop ends.
func TestWatcherDelivers(t *testing.T) {
	w := NewWatcher(4)
	var seen []Event
	w.Start(func(ev Event) { seen = append(seen, ev) })
	w.Emit(Event{Path: "/etc/app.conf", Op: "write"})
	w.Emit(Event{Path: "/etc/app.conf", Op: "chmod"})
	w.Close()
	if len(seen) != 2 || seen[1].Op != "chmod" {
		t.Fatalf("seen = %+v, want 2 events ending in chmod", seen)
	}
}
