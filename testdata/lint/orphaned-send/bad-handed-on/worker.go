package bad

func worker(url string, out chan<- result) {
	retry(url, out)
}

func retry(url string, out chan<- result) {
	out <- result{len(url), nil} // want: orphaned-send
}

func deliver(out chan int, v int) {
	out <- v // want: orphaned-send
}
