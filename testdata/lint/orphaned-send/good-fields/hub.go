// Package good: the goroutine's send on the field gives up when the hub is closed.
package good

import "context"

type hub struct {
	events chan string
	closed chan struct{}
}

func newHub() *hub { return &hub{events: make(chan string), closed: make(chan struct{})} }

func (h *hub) publish(ev string) {
	go func() {
		select {
		case h.events <- ev:
		case <-h.closed:
		}
	}()
}

func start(ctx context.Context, h *hub, log func(string)) {
	go h.pump(ctx, log)
}

func (h *hub) pump(ctx context.Context, log func(string)) {
	defer close(h.closed)
	for {
		select {
		case ev := <-h.events:
			log(ev)
		case <-ctx.Done():
			return
		}
	}
}
