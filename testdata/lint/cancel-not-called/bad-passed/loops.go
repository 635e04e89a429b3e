package bad

import "context"

func readLoop(ctx context.Context, c conn, cancel context.CancelFunc, handle func(context.Context, []byte)) {
	for {
		b, err := c.Read()
		if err != nil {
			return // partner: cancel-not-called
		}
		if len(b) == 0 {
			cancel()
			return
		}
		handle(ctx, b)
	}
}

func ping(ctx context.Context, c conn, done func()) error {
	if err := c.Ping(ctx); err != nil {
		return err // partner: cancel-not-called
	}
	_ = done
	return nil
}

func start(ctx context.Context, c conn, stop context.CancelFunc) {
	go watch(ctx, c, stop)
}

func watch(ctx context.Context, c conn, stop context.CancelFunc) {
	for {
		if _, err := c.Read(); err != nil {
			return // partner: cancel-not-called
		}
	}
}

var _ = []any{serve, probe, supervise, errClosed}
