package good

func config(path string) []byte {
	ch := make(chan []byte)
	go load(path, ch)
	return <-ch // nil when load gave up and closed ch
}

func configOrNil(path string) []byte {
	ch := make(chan []byte)
	go loadOrNil(path, ch)
	return <-ch
}
