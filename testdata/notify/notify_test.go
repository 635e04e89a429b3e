package notify

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"
)

// This package is a fixture whose whole point is to leak. The test pins the
// leak down, so that a well-meant "fix" here cannot silently empty the dumps
// generated from it. (The fixed service is tested in package notifyfixed.)
func TestVanishedClientsLeak(t *testing.T) {
	before := goleak.IgnoreCurrent()
	svc := New(time.Hour)
	var up websocket.Upgrader
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		svc.Subscribe(r.URL.Query().Get("user"), ws)
	}))
	defer srv.Close()

	const clients = 5
	for i := range clients {
		ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/ws?user=u"+string(rune('a'+i)), nil)
		if err != nil {
			t.Fatal(err)
		}
		ws.NetConn().Close() // vanish without a close frame
	}
	for svc.Len() < clients {
		time.Sleep(10 * time.Millisecond)
	}
	// The first write to a socket whose peer has gone still succeeds; the
	// peer's reset makes the second one fail and the pump return. From then on
	// every message parks a publisher.
	for range 4 {
		svc.Broadcast(Message{Body: "hello"})
		time.Sleep(50 * time.Millisecond)
	}

	err := goleak.Find(before)
	if err == nil {
		t.Fatal("no leak: package notify must keep the incident's bugs")
	}
	for _, want := range []string{"notify.(*Service).heartbeat", "notify.(*Service).deliver"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("leaked goroutines do not include %s", want)
		}
	}
	if svc.Len() != clients {
		t.Errorf("subscriptions = %d, want %d: nothing should have unsubscribed", svc.Len(), clients)
	}
}
