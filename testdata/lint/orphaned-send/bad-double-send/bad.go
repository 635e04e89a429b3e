// Package bad: two sends on one path, one receive: the error path sends, then falls through
// and sends again, and the receiver has returned after the first.
package bad

func fetch(get func() (int, error)) (int, error) {
	res := make(chan int)
	errc := make(chan error)
	go func() {
		v, err := get()
		if err != nil {
			errc <- err
		}
		errc <- nil // want: orphaned-send
		res <- v
	}()
	if err := <-errc; err != nil { // partner: orphaned-send
		return 0, err
	}
	return <-res, nil
}
