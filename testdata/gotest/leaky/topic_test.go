package leaky

import "testing"

// TestPure starts no goroutine at all.
func TestPure(t *testing.T) {
	cases := []struct {
		pattern, topic string
		want           bool
	}{
		{"orders.created", "orders.created", true},
		{"orders.*.created", "orders.eu.created", true},
		{"orders.*.created", "orders.eu.deleted", false},
		{"orders.#", "orders.eu.created", true},
		{"orders.#", "users.eu", false},
		{"orders", "orders.eu", false},
		{"orders.eu.created", "orders.eu", false},
	}
	for _, c := range cases {
		if got := TopicMatch(c.pattern, c.topic); got != c.want {
			t.Errorf("TopicMatch(%q, %q) = %v, want %v", c.pattern, c.topic, got, c.want)
		}
	}
}
