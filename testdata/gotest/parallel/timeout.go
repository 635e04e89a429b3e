package parallel

import (
	"context"
	"time"
)

// RunWithTimeout runs fn on its own goroutine and returns its error, or
// context.DeadlineExceeded after d. The result channel is buffered, so a fn
// that returns late does not block; but a fn that ignores its context and
// never returns keeps its goroutine forever.
func RunWithTimeout(ctx context.Context, d time.Duration, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- fn(ctx) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
