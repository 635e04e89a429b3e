package failing

import "testing"

// TestMeanEmptyFails fails (Mean(nil) is NaN, not 0) and starts no goroutine.
func TestMeanEmptyFails(t *testing.T) {
	if got := Mean(nil); got != 0 {
		t.Errorf("Mean(nil) = %v, want 0", got)
	}
}

// TestStreamFirstLeaks passes, but reads only the first value: the 1 sending
// goroutine blocks forever on its next send.
func TestStreamFirstLeaks(t *testing.T) {
	if first := <-Stream([]float64{1, 2, 3}); first != 1 {
		t.Fatalf("first = %v, want 1", first)
	}
}

// TestMean passes and starts no goroutine.
func TestMean(t *testing.T) {
	if got := Mean([]float64{1, 2, 3}); got != 2 {
		t.Errorf("Mean = %v, want 2", got)
	}
}

// TestStreamAll reads the stream to the end: its goroutine returns.
func TestStreamAll(t *testing.T) {
	var sum float64
	for x := range Stream([]float64{1, 2, 3}) {
		sum += x
	}
	if sum != 6 {
		t.Errorf("sum = %v, want 6", sum)
	}
}
