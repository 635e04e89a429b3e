// Package good: one send per path.
package good

func fetch(get func() (int, error)) (int, error) {
	res := make(chan int)
	errc := make(chan error)
	go func() {
		v, err := get()
		if err != nil {
			errc <- err
			return
		}
		errc <- nil
		res <- v
	}()
	if err := <-errc; err != nil {
		return 0, err
	}
	return <-res, nil
}
