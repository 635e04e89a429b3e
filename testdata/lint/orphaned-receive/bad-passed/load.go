// Package bad: the only sender is a function the channel was handed to, and it can return
// without sending.
package bad

import "os"

// load returns early when the file is missing, without a word on out.
func load(path string, out chan<- []byte) {
	b, err := os.ReadFile(path)
	if err != nil {
		return // partner: orphaned-receive
	}
	out <- b
}
