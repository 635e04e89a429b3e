// Package good: every way out of the sender either sends or closes.
package good

import "time"

func load(get func() (int, error)) (int, bool) {
	ch := make(chan int)
	go func() {
		defer close(ch)
		v, err := get()
		if err != nil {
			return
		}
		ch <- v
	}()
	v, ok := <-ch
	return v, ok
}

func load2(get func() (int, error)) (int, error) {
	ch := make(chan int)
	errc := make(chan error, 1)
	go func() {
		v, err := get()
		if err != nil {
			errc <- err
			return
		}
		ch <- v
	}()
	select {
	case v := <-ch:
		return v, nil
	case err := <-errc:
		return 0, err
	}
}

// The receiver hears from the goroutine on requests first, which is fed only after accepted.
func serve(accept func() (int, error), read func(int) int) (int, int) {
	requests := make(chan int, 1)
	accepted := make(chan int, 1)
	go func() {
		conn, err := accept()
		if err != nil {
			return
		}
		accepted <- conn
		requests <- read(conn)
	}()
	var first int
	select {
	case first = <-requests:
	case <-time.After(time.Second):
		return 0, 0
	}
	conn := <-accepted
	return first, conn
}
