// Command pprof-farm serves many net/http/pprof-shaped endpoints from one process, each on its
// own loopback port, answering with real captured profiles (files written by the runtime, from
// testdata/dumps). It is the fleet for leakwatch's watch benchmark: 1,000 targets without 1,000
// processes. It prints a leakwatch targets file (JSON) on stdout and serves until killed.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"
)

func main() {
	n := flag.Int("n", 1000, "endpoints to serve")
	profile := flag.String("profile", "testdata/dumps/notify-leaky.pb.gz", "protobuf goroutine profile to serve (gzipped, as Go writes it)")
	debug2 := flag.String("debug2", "testdata/dumps/notify-leaky.debug2.txt", "debug=2 dump to serve")
	interval := flag.String("interval", "15s", "interval written into the targets file")
	flag.Parse()

	pb, err := os.ReadFile(*profile)
	if err != nil {
		log.Fatal(err)
	}
	d2, err := os.ReadFile(*debug2)
	if err != nil {
		log.Fatal(err)
	}
	var served atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/goroutine", func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		if r.URL.Query().Get("debug") == "2" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Write(d2)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(pb)
	})
	// Like a build without GOEXPERIMENT=goroutineleakprofile: no leak profile.
	mux.HandleFunc("/debug/pprof/goroutineleak", http.NotFound)
	mux.HandleFunc("/farm/served", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, served.Load())
	})

	type target struct {
		Name string `json:"name"`
		URL  string `json:"url"`
	}
	targets := make([]target, 0, *n)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	for i := 0; i < *n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			log.Fatalf("listener %d: %v", i, err)
		}
		go srv.Serve(ln)
		targets = append(targets, target{Name: fmt.Sprintf("svc-%04d", i), URL: "http://" + ln.Addr().String()})
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{"interval": *interval, "targets": targets})
	select {}
}
