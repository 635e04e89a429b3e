package chans

import "testing"

func TestSquareSmall(t *testing.T) {
	in := make(chan int, 3)
	in <- 1
	in <- 2
	in <- 3
	close(in)
	if got := Sum(Square(in)); got != 14 {
		t.Fatalf("Sum = %d, want 14", got)
	}
}

// TestSumDeadlocks never closes in: Sum waits for the end of a stream that never ends.
func TestSumDeadlocks(t *testing.T) {
	in := make(chan int)
	go func() {
		for _, v := range []int{1, 2, 3} {
			in <- v
		}
		// BUG: close(in) missing.
	}()
	if got := Sum(Square(in)); got != 14 {
		t.Fatalf("Sum = %d, want 14", got)
	}
}
