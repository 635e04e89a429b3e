// Package bad: a goroutine literal sends on a struct's unbuffered channel field, and the
// field's only reader (in another file) returns when its context ends.
package bad

import "context"

type hub struct {
	events chan string
}

func newHub() *hub { return &hub{events: make(chan string)} }

// publish hands every event to a goroutine of its own.
func (h *hub) publish(ev string) {
	go func() {
		h.events <- ev // want: orphaned-send
	}()
}

func start(ctx context.Context, h *hub, log func(string)) {
	go h.pump(ctx, log)
}
