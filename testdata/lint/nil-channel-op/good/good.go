// Package good: nil channels that are assigned first, or used in a select to switch a case
// off (a deliberate idiom). None may be reported.
package good

func send(v int, ready bool) {
	var out chan int
	if ready {
		out = make(chan int, 1)
	}
	select {
	case out <- v:
	default:
	}
}

func merge(a, b <-chan int, emit func(int)) {
	for a != nil || b != nil {
		select {
		case v, ok := <-a:
			if !ok {
				a = nil
				continue
			}
			emit(v)
		case v, ok := <-b:
			if !ok {
				b = nil
				continue
			}
			emit(v)
		}
	}
}

func assigned() int {
	var ch chan int
	ch = make(chan int, 1)
	ch <- 1
	return <-ch
}

var _ = []any{send, merge, assigned}
