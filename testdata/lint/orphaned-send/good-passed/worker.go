// Package good: channels handed to goroutines as arguments, with room for the send or a
// receiver that always takes it.
package good

type result struct {
	n   int
	err error
}

func fetch(url string, out chan<- result) {
	out <- result{len(url), nil}
}

type pool struct{ work func(int) int }

func (p *pool) run(i int, done chan int) {
	done <- p.work(i)
}

// sendOrQuit gives up when quit closes.
func sendOrQuit(v int, out chan<- int, quit <-chan struct{}) {
	select {
	case out <- v:
	case <-quit:
	}
}
