// Command promleak is a service that leakwatch does not scrape: it exposes
// client_golang's default /metrics (go_goroutines among the Go collector's
// series) and leaks goroutines when asked, so tests can show that the rules
// of `leakwatch rules --from go_goroutines` fire on go_goroutines alone.
//
//	promleak -addr 127.0.0.1:0
//
// The first line on stdout is "listening on http://HOST:PORT". Endpoints:
//
//	GET  /metrics            client_golang's default registry
//	POST /leak?rate=N        from now on, N goroutines a second block forever
//	                         on a channel nobody sends to (rate=0 stops it)
//	GET  /stats              {"goroutines": N}
//	GET  /debug/pprof/...    net/http/pprof
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// never is received from by every leaked goroutine and sent to by nobody.
var never = make(chan struct{})

// waitForReply is the leak: a request handler's helper that waits for a
// reply which never comes.
func waitForReply() {
	<-never
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()

	var rate atomic.Int64
	go func() {
		// Ten ticks a second, so the rise is smooth at any rate.
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		var owed float64
		for range t.C {
			owed += float64(rate.Load()) / 10
			for ; owed >= 1; owed-- {
				go waitForReply()
			}
		}
	}()

	http.Handle("/metrics", promhttp.Handler())
	http.HandleFunc("/leak", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		n, err := strconv.Atoi(r.URL.Query().Get("rate"))
		if err != nil || n < 0 || n > 10000 {
			http.Error(w, "rate: a whole number from 0 to 10000", http.StatusBadRequest)
			return
		}
		rate.Store(int64(n))
		fmt.Fprintf(w, "leaking %d goroutines a second\n", n)
	})
	http.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]int{"goroutines": runtime.NumGoroutine()})
	})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	log.Fatal(http.Serve(ln, nil))
}
