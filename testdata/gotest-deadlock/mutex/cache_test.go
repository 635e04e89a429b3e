package mutex

import (
	"strings"
	"testing"
)

func TestGetLoads(t *testing.T) {
	c := New(strings.ToUpper)
	if got := c.Get("a"); got != "A" {
		t.Fatalf("Get = %q", got)
	}
}

// TestGetAfterExpireDeadlocks: Get on an expired key locks the cache twice.
func TestGetAfterExpireDeadlocks(t *testing.T) {
	c := New(strings.ToUpper)
	c.Get("a")
	c.Expire("a")
	if got := c.Get("a"); got != "A" {
		t.Fatalf("Get = %q", got)
	}
}
