package bad

import "sync"

func audit(a *Account) int {
	a.mu.Lock() // partner: mutex-double-lock
	defer a.mu.Unlock()
	return a.balance
}

func withLock(mu *sync.Mutex, f func()) {
	mu.Lock() // partner: mutex-double-lock
	defer mu.Unlock()
	f()
}
