// Package bad: a mutex (or the struct holding it) handed, while held, to a function that locks
// it again.
package bad

import "sync"

type Account struct {
	mu      sync.Mutex
	balance int
	log     []int
}

// Deposit holds a.mu and hands a to audit, which locks a.mu again.
func (a *Account) Deposit(n int) bool {
	a.mu.Lock()
	a.balance += n
	ok := audit(a) >= 0 // want: mutex-double-lock
	a.mu.Unlock()
	return ok
}

// Record holds a.mu and hands the mutex itself to withLock.
func (a *Account) Record(n int) {
	a.mu.Lock()
	withLock(&a.mu, func() { a.log = append(a.log, n) }) // want: mutex-double-lock
	a.mu.Unlock()
}
