package notifyfixed

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"
)

// newServer serves svc on /ws?user=ID from an httptest server.
func newServer(t *testing.T, svc *Service) (wsURL string) {
	t.Helper()
	var up websocket.Upgrader
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		svc.Subscribe(r.URL.Query().Get("user"), ws)
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws?user="
}

func dial(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestDeliversAndCleansUp(t *testing.T) {
	// A cleanup registered first runs last, after the test server is closed.
	t.Cleanup(func() { goleak.VerifyNone(t) })
	svc := New(20 * time.Millisecond)
	url := newServer(t, svc)

	live := dial(t, url+"alice")
	defer live.Close()
	waitFor(t, "alice's subscription", func() bool { return svc.Len() == 1 })

	svc.Broadcast(Message{Type: "news", Body: "hello"})
	var got Message
	if err := live.ReadJSON(&got); err != nil {
		t.Fatal(err)
	}
	if got.Body != "hello" {
		t.Fatalf("got %+v, want body hello", got)
	}

	// A polite client: the close frame reaches the close handler.
	err := live.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "unsubscribe after close frame", func() bool { return svc.Len() == 0 })
}

func TestVanishedClientReleasesEverything(t *testing.T) {
	// A cleanup registered first runs last, after the test server is closed.
	t.Cleanup(func() { goleak.VerifyNone(t) })
	svc := New(20 * time.Millisecond)
	url := newServer(t, svc)

	for _, user := range []string{"u1", "u2", "u3"} {
		ws := dial(t, url+user)
		ws.NetConn().Close() // vanish: no close frame
	}
	waitFor(t, "read loops to notice", func() bool { return svc.Len() == 0 })

	// Nothing is subscribed and nothing may block.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 {
			svc.Broadcast(Message{Body: "x"})
			svc.Publish("u1", Message{Body: "y"})
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("publishers blocked")
	}
}

func TestSlowClientDoesNotBlockPublishers(t *testing.T) {
	// A cleanup registered first runs last, after the test server is closed.
	t.Cleanup(func() { goleak.VerifyNone(t) })
	svc := New(time.Hour)
	url := newServer(t, svc)

	// Connected but never reading: the pump stalls on the socket once the
	// kernel buffers fill, the queue fills, and later messages are dropped.
	ws := dial(t, url+"slow")
	defer ws.Close()
	waitFor(t, "subscription", func() bool { return svc.Len() == 1 })
	big := strings.Repeat("x", 64<<10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 200 {
			svc.Publish("slow", Message{Body: big})
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("publisher blocked on a slow client")
	}
	if svc.Dropped() == 0 {
		t.Fatal("expected dropped messages for a client that does not read")
	}
	svc.Unsubscribe("slow")
}
