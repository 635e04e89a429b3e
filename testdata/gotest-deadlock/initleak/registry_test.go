package initleak

import "testing"

func TestNames(t *testing.T) {
	if len(Names()) != 2 {
		t.Fatal("want 2 names")
	}
}
