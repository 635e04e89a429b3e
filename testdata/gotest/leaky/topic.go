package leaky

import "strings"

// TopicMatch reports whether topic matches pattern, where a pattern segment
// "*" matches any one segment and a final "#" matches any remaining ones.
// Segments are separated by dots: "orders.*.created", "orders.#".
func TopicMatch(pattern, topic string) bool {
	ps := strings.Split(pattern, ".")
	ts := strings.Split(topic, ".")
	for i, p := range ps {
		if p == "#" && i == len(ps)-1 {
			return true
		}
		if i >= len(ts) || (p != "*" && p != ts[i]) {
			return false
		}
	}
	return len(ps) == len(ts)
}
