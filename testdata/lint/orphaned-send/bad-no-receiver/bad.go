// Package bad: a send on a channel nothing ever receives from.
package bad

func fire(work func()) {
	done := make(chan struct{})
	go func() {
		work()
		done <- struct{}{} // want: orphaned-send
	}()
}
