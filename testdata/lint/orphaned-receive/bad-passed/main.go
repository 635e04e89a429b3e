package bad

// config waits for load, which may never send.
func config(path string) []byte {
	ch := make(chan []byte)
	go load(path, ch)
	return <-ch // want: orphaned-receive
}
