package rare

import (
	"testing"
	"time"
)

// TestDoRetries: the first call is busy; the retry answers slowly.
func TestDoRetries(t *testing.T) {
	calls := 0
	err := Do(func() error {
		calls++
		if calls == 1 {
			return errBusy
		}
		time.Sleep(5 * time.Millisecond)
		return nil
	})
	if err != nil && err != errBusy {
		t.Fatal(err)
	}
}

func TestDoPassesThrough(t *testing.T) {
	if err := Do(func() error { return nil }); err != nil {
		t.Fatal(err)
	}
}
