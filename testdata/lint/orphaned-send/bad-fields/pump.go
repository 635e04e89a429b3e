package bad

import "context"

// pump reads events until ctx ends, then returns, and nobody reads h.events again.
func (h *hub) pump(ctx context.Context, log func(string)) {
	for {
		select {
		case ev := <-h.events:
			log(ev)
		case <-ctx.Done(): // partner: orphaned-send
			return
		}
	}
}
