// Package good: a mutex handed to a function only when it is not held, or to one that expects
// it held.
package good

import "sync"

type Account struct {
	mu      sync.Mutex
	rw      sync.RWMutex
	balance int
	log     []int
}

// audit runs after the lock is released.
func (a *Account) Deposit(n int) bool {
	a.mu.Lock()
	a.balance += n
	a.mu.Unlock()
	return audit(a) >= 0
}

// auditLocked expects a.mu held: its first use of it is an Unlock, or none.
func (a *Account) Check() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return auditLocked(a)
}

// withLock takes the mutex itself, not held here.
func (a *Account) Record(n int) {
	withLock(&a.mu, func() { a.log = append(a.log, n) })
}

// Two read locks wait for each other only when a writer queues between: not judged here.
func (a *Account) Read() int {
	a.rw.RLock()
	defer a.rw.RUnlock()
	return peek(a)
}

func audit(a *Account) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.balance
}

func auditLocked(a *Account) int { return a.balance }

func peek(a *Account) int {
	a.rw.RLock()
	defer a.rw.RUnlock()
	return a.balance
}

func withLock(mu *sync.Mutex, f func()) {
	mu.Lock()
	defer mu.Unlock()
	f()
}
