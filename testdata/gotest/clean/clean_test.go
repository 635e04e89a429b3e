package clean

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

func TestMapWorkersFinish(t *testing.T) {
	in := []int{1, 2, 3, 4, 5, 6, 7, 8}
	out, err := Map(context.Background(), in, 3, func(_ context.Context, n int) (string, error) {
		return strconv.Itoa(n * n), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if out[7] != "64" || len(out) != 8 {
		t.Fatalf("Map = %v", out)
	}
}

func TestMapStopsOnError(t *testing.T) {
	boom := errors.New("boom")
	_, err := Map(context.Background(), make([]int, 100), 4, func(_ context.Context, n int) (int, error) {
		return 0, boom
	})
	if err != boom {
		t.Fatalf("Map error = %v, want boom", err)
	}
}

func TestPollerStops(t *testing.T) {
	var n atomic.Int32
	p := StartPoller(time.Millisecond, func() { n.Add(1) })
	deadline := time.Now().Add(5 * time.Second)
	for n.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	p.Stop()
	if n.Load() < 3 {
		t.Fatalf("polled %d times, want >= 3", n.Load())
	}
}

// TestHTTPServerShutdown starts an httptest server, makes requests with its
// client, and closes it: Close closes the server's connections and the
// client's idle ones.
func TestHTTPServerShutdown(t *testing.T) {
	srv := httptest.NewServer(StatusHandler())
	defer srv.Close()
	for _, path := range []string{"/a", "/b"} {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]string
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || body["path"] != path {
			t.Fatalf("GET %s = %v, %v", path, body, err)
		}
	}
}

// TestContextCancelStopsGoroutine starts a goroutine that waits for its
// context, cancels it, and waits for the goroutine to say it returned.
func TestContextCancelStopsGoroutine(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
	}()
	cancel()
	<-done
}

// TestTimerStopped uses a timer that does not fire: nothing to leak.
func TestTimerStopped(t *testing.T) {
	timer := time.AfterFunc(time.Hour, func() { t.Error("fired") })
	if !timer.Stop() {
		t.Fatal("timer already fired")
	}
}
