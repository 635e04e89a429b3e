// Package good: every way out of the sender either sends or closes.
package good

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
