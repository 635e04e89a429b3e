// Package bad holds the shapes nil-channel-op must report.
package bad

type result struct{ n int }

func send(r result) {
	var out chan result
	out <- r // want: nil-channel-op
}

func wait() int {
	var done chan int
	return <-done // want: nil-channel-op
}

var _ = []any{send, wait}
