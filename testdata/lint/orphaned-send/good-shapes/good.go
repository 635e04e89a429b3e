// Package good: sends that always find their receiver.
package good

// The receiver drains in a loop until the sender closes.
func all(n int, f func(int) int) []int {
	out := make(chan int)
	go func() {
		defer close(out)
		for i := 0; i < n; i++ {
			out <- f(i)
		}
	}()
	var got []int
	for v := range out {
		got = append(got, v)
	}
	return got
}

// The other case's channel is closed by the same goroutine, on the path where it does not send.
func watch(next func() (bool, error)) error {
	errCh := make(chan error)
	finished := make(chan struct{})
	go func() {
		for {
			ok, err := next()
			if err != nil {
				errCh <- err
				return
			}
			if ok {
				close(finished)
				return
			}
		}
	}()
	select {
	case <-finished:
		return nil
	case err := <-errCh:
		return err
	}
}
