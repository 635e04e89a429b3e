// Package good: room for the one send, so the sender finishes (and closes) whoever wins.
package good

import (
	"context"
	"errors"
	"time"
)

func withTimeout(ctx context.Context, work func() error) error {
	errc := make(chan error, 1)
	go func() {
		defer close(errc)
		errc <- work()
	}()
	select {
	case err := <-errc:
		return err
	case <-time.After(time.Second):
		return errors.New("timeout")
	case <-ctx.Done():
		return ctx.Err()
	}
}
