// Package bad: two paths take the same two locks in opposite orders.
package bad

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
	b.ledger.Lock() // want: mutex-lock-order
	b.entries = append(b.entries, n)
	b.ledger.Unlock()
}

func (b *Bank) Audit() int {
	b.ledger.Lock()
	defer b.ledger.Unlock()
	b.accounts.Lock()
	defer b.accounts.Unlock()
	return b.balance - len(b.entries)
}
