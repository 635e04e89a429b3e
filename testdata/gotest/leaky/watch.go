package leaky

import "sync"

// Event is one change seen by a Watcher.
type Event struct {
	Path string
	Op   string
}

// Watcher delivers events to a handler on its own goroutine. Make one with
// NewWatcher: the zero Watcher has a nil events channel, so a loop started on
// it blocks forever on a nil-channel receive.
type Watcher struct {
	events chan Event
	done   chan struct{}
	once   sync.Once
}

// NewWatcher returns a Watcher that buffers up to n events.
func NewWatcher(n int) *Watcher {
	return &Watcher{events: make(chan Event, n), done: make(chan struct{})}
}

// Start runs handle for every event until Close.
func (w *Watcher) Start(handle func(Event)) {
	go func() {
		if w.done != nil {
			defer close(w.done)
		}
		for ev := range w.events {
			handle(ev)
		}
	}()
}

// Emit queues an event for the handler.
func (w *Watcher) Emit(ev Event) { w.events <- ev }

// Close stops the loop after the queued events and waits for it.
func (w *Watcher) Close() {
	w.once.Do(func() {
		close(w.events)
		<-w.done
	})
}
