// Command notify-server serves the notification service of package notify
// (leaky, as in the incident) or notifyfixed (the fix) over HTTP, with
// net/http/pprof mounted so that goroutine dumps can be taken from it.
//
//	notify-server -variant leaky -addr 127.0.0.1:0 -heartbeat 1s
//
// The first line on stdout is "listening on http://HOST:PORT"; scripts read the
// port from it. Endpoints:
//
//	GET  /ws?user=ID           WebSocket upgrade, then Subscribe
//	POST /broadcast            send a message to every subscriber
//	POST /publish?user=ID      send a message to one subscriber
//	GET  /stats                {"goroutines": N, "subscriptions": N, "variant": "..."}
//	GET  /debug/pprof/...      net/http/pprof, including goroutineleak when the
//	                           binary is built with GOEXPERIMENT=goroutineleakprofile
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"leakwatch.test/testdata/notify"
	"leakwatch.test/testdata/notifyfixed"
)

// message mirrors notify.Message and notifyfixed.Message, so the server can
// decode a request once whatever the variant.
type message struct {
	Type string `json:"type"`
	Body string `json:"body"`
	Seq  int64  `json:"seq"`
}

// service is what the server needs from either variant.
type service interface {
	Subscribe(userID string, ws *websocket.Conn)
	Broadcast(m message) int
	Publish(userID string, m message) bool
	Len() int
}

type leaky struct{ *notify.Service }

func (l leaky) Broadcast(m message) int { return l.Service.Broadcast(notify.Message(m)) }
func (l leaky) Publish(u string, m message) bool {
	return l.Service.Publish(u, notify.Message(m))
}

type fixed struct{ *notifyfixed.Service }

func (f fixed) Broadcast(m message) int { return f.Service.Broadcast(notifyfixed.Message(m)) }
func (f fixed) Publish(u string, m message) bool {
	return f.Service.Publish(u, notifyfixed.Message(m))
}

func main() {
	variant := flag.String("variant", "leaky", "service implementation: leaky or fixed")
	addr := flag.String("addr", "127.0.0.1:0", "listen address (port 0 picks a free port)")
	heartbeat := flag.Duration("heartbeat", time.Second, "interval between pings to each subscriber")
	flag.Parse()
	log.SetPrefix("notify-server: ")
	log.SetFlags(0)

	var svc service
	switch *variant {
	case "leaky":
		svc = leaky{notify.New(*heartbeat)}
	case "fixed":
		svc = fixed{notifyfixed.New(*heartbeat)}
	default:
		log.Fatalf("unknown -variant %q (want leaky or fixed)", *variant)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	// Scripts wait for this line; it is printed once the socket accepts.
	fmt.Printf("listening on http://%s\n", ln.Addr())

	register(http.DefaultServeMux, *variant, svc)
	srv := &http.Server{Handler: http.DefaultServeMux, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

func register(mux *http.ServeMux, variant string, svc service) {
	upgrader := websocket.Upgrader{
		// The load driver is not a browser; no Origin check is wanted here.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	var seq atomic.Int64

	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		user := r.URL.Query().Get("user")
		if user == "" {
			http.Error(w, "missing user", http.StatusBadRequest)
			return
		}
		ws, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade has already replied
		}
		// As in the incident, the handler hands the socket over and returns.
		// The leaky service never reads from it again; the fixed one starts
		// its own read loop.
		svc.Subscribe(user, ws)
	})

	mux.HandleFunc("POST /broadcast", func(w http.ResponseWriter, r *http.Request) {
		m, err := readMessage(r, "broadcast", seq.Add(1))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]int{"recipients": svc.Broadcast(m)})
	})

	mux.HandleFunc("POST /publish", func(w http.ResponseWriter, r *http.Request) {
		user := r.URL.Query().Get("user")
		if user == "" {
			http.Error(w, "missing user", http.StatusBadRequest)
			return
		}
		m, err := readMessage(r, "direct", seq.Add(1))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ok := svc.Publish(user, m)
		recipients := 0
		if ok {
			recipients = 1
		}
		writeJSON(w, http.StatusAccepted, map[string]int{"recipients": recipients})
	})

	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{
			"variant":       variant,
			"goroutines":    runtime.NumGoroutine(),
			"subscriptions": svc.Len(),
		})
	})
}

// readMessage decodes an optional JSON message body; an empty body yields a
// default message of the given type.
func readMessage(r *http.Request, typ string, seq int64) (message, error) {
	m := message{Type: typ, Body: "notification", Seq: seq}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		return m, err
	}
	if strings.TrimSpace(string(body)) == "" {
		return m, nil
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return m, fmt.Errorf("bad message: %w", err)
	}
	if m.Seq == 0 {
		m.Seq = seq
	}
	return m, nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
