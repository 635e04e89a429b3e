package ownmain

import (
	"context"
	"testing"
	"time"
)

// TestWatchLeaks reads the first configuration and returns, but its context is
// never cancelled: the 1 polling goroutine waits on its ticker forever.
func TestWatchLeaks(t *testing.T) {
	cfg := <-Watch(context.Background(), configPath, time.Hour)
	if cfg["listen"] != ":8080" {
		t.Fatalf("listen = %q, want :8080", cfg["listen"])
	}
}

// TestWatchStops cancels the watch and drains the channel until it is closed.
func TestWatchStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := Watch(ctx, configPath, time.Hour)
	cfg := <-ch
	if cfg["log"] != "debug" {
		t.Fatalf("log = %q, want debug", cfg["log"])
	}
	cancel()
	for range ch {
	}
}

// TestParse starts no goroutine.
func TestParse(t *testing.T) {
	cfg, err := Parse([]byte("a = 1\n\n# comment\nb=two\n"))
	if err != nil || len(cfg) != 2 || cfg["a"] != "1" || cfg["b"] != "two" {
		t.Fatalf("Parse = %v, %v", cfg, err)
	}
	if _, err := Parse([]byte("novalue\n")); err == nil {
		t.Fatal("Parse accepted a line without '='")
	}
}
