// Package chans is a two-stage pipeline whose caller forgets to close the input: the test
// that drives it deadlocks on a channel (the collector waits for more input forever, and
// the producer's helper waits to hand over a value nobody will take).
package chans

// Square reads numbers from in and sends their squares on the returned channel; it closes
// the output when in is closed.
func Square(in <-chan int) <-chan int {
	out := make(chan int)
	go func() {
		defer close(out)
		for v := range in {
			out <- v * v
		}
	}()
	return out
}

// Sum adds everything it receives until the channel is closed.
func Sum(in <-chan int) int {
	total := 0
	for v := range in {
		total += v
	}
	return total
}
