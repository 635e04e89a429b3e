// Package bad holds the shapes range-never-closed must report.
package bad

var sink int

func consume(values []int) {
	ch := make(chan int)
	go func() {
		for v := range ch { // want: range-never-closed
			sink += v
		}
	}()
	for _, v := range values {
		ch <- v
	}
}

func worker(jobs <-chan int) {
	for j := range jobs { // want: range-never-closed
		sink += j
	}
}

func dispatch(n int) {
	jobs := make(chan int)
	go worker(jobs)
	for i := 0; i < n; i++ {
		jobs <- i
	}
}

type logger struct{ lines chan string }

func (l *logger) run() {
	for line := range l.lines { // want: range-never-closed
		_ = line
	}
}

func newLogger() *logger {
	l := &logger{lines: make(chan string, 16)}
	go l.run()
	return l
}

var _ = []any{consume, dispatch, newLogger}
