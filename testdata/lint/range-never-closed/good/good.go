// Package good: every ranged channel is closed by its owner. None may be reported.
package good

var sink int

func consume(values []int) {
	ch := make(chan int)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for v := range ch {
			sink += v
		}
	}()
	for _, v := range values {
		ch <- v
	}
	close(ch)
	<-done
}

func worker(jobs <-chan int) {
	for j := range jobs {
		sink += j
	}
}

func dispatch(n int) {
	jobs := make(chan int)
	go worker(jobs)
	for i := 0; i < n; i++ {
		jobs <- i
	}
	close(jobs)
}

type logger struct{ lines chan string }

func (l *logger) run() {
	for line := range l.lines {
		_ = line
	}
}

func newLogger() *logger {
	l := &logger{lines: make(chan string, 16)}
	go l.run()
	return l
}

func (l *logger) Close() { close(l.lines) }

var _ = []any{consume, dispatch, newLogger}
