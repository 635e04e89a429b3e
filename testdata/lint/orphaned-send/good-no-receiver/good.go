// Package good: the caller waits for the one send.
package good

func fire(work func()) {
	done := make(chan struct{})
	go func() {
		work()
		done <- struct{}{}
	}()
	<-done
}
