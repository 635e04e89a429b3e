// Package failing has one test that fails without leaking and one that leaks
// but passes, so a tool can show that test failures and leaks are different
// things (see LEAKS.md one directory up).
package failing

// Mean returns the arithmetic mean of xs.
//
// The bug: the mean of no values is NaN (0/0); callers expect 0.
func Mean(xs []float64) float64 {
	var sum float64
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

// Stream sends xs one by one on the returned channel and then closes it.
// The caller must read it to the end; a caller that stops early leaves the
// sending goroutine blocked forever.
func Stream(xs []float64) <-chan float64 {
	ch := make(chan float64)
	go func() {
		defer close(ch)
		for _, x := range xs {
			ch <- x
		}
	}()
	return ch
}
