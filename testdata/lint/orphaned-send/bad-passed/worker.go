// Package bad: the channel is handed to the sending goroutine as an argument, and the
// receiver (in another file) can leave before taking its value.
package bad

type result struct {
	n   int
	err error
}

// fetch sends its one result on out, with no way out of the send.
func fetch(url string, out chan<- result) {
	n, err := len(url), error(nil)
	out <- result{n, err} // want: orphaned-send
}

type pool struct{ work func(int) int }

// run sends on done when it is finished.
func (p *pool) run(i int, done chan int) {
	done <- p.work(i) // want: orphaned-send
}

// report sends its count and nobody ever listens.
func report(n int, counts chan int) {
	counts <- n // want: orphaned-send
}
