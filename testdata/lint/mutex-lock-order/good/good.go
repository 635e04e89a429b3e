// Package good: every path takes the two locks in the same order.
package good

import "sync"

type Bank struct {
	accounts sync.Mutex
	ledger   sync.Mutex
	balance  int
	entries  []int
}

func (b *Bank) Deposit(n int) {
	b.accounts.Lock()
	defer b.accounts.Unlock()
	b.balance += n
	b.ledger.Lock()
	b.entries = append(b.entries, n)
	b.ledger.Unlock()
}

func (b *Bank) Audit() int {
	b.accounts.Lock()
	defer b.accounts.Unlock()
	b.ledger.Lock()
	defer b.ledger.Unlock()
	return b.balance - len(b.entries)
}

// The first lock is released before the second is taken.
func (b *Bank) Snapshot() (int, int) {
	b.ledger.Lock()
	n := len(b.entries)
	b.ledger.Unlock()
	b.accounts.Lock()
	defer b.accounts.Unlock()
	return b.balance, n
}
