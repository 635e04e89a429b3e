// Package bad: a receiver waits on a sender that can leave without a word.
package bad

func load(get func() (int, error)) int {
	ch := make(chan int)
	go func() {
		v, err := get()
		if err != nil {
			return
		}
		ch <- v
	}()
	return <-ch // want: orphaned-receive
}
