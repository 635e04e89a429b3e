// Command healthy-http is a healthy, idle net/http process: a server and
// several keep-alive clients in the same process, each client holding one
// idle connection to the server. Its dump shows the goroutines a normal Go
// service always has and that must not be reported as leaks:
//
//   - net/http.(*Server).Serve accept loop          [IO wait]
//
//   - net/http.(*conn).serve, one per connection     [IO wait] (idle keep-alive)
//
//   - net/http.(*persistConn).readLoop, per client   [IO wait]
//
//   - net/http.(*persistConn).writeLoop, per client  [select]
//
//     healthy-http [-clients 4] [-form debug2] [-o file] [-wait 0] [-serve addr]
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"leakwatch.test/testdata/internal/dumpout"
)

func hello(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, "hello\n")
}

// startServer starts the application server on a loopback port.
func startServer() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", hello)
	srv := &http.Server{Handler: mux, IdleTimeout: time.Hour}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), nil
}

// newClient returns a client with its own transport, so each client keeps
// its own idle keep-alive connection.
func newClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     time.Hour,
	}}
}

func get(c *http.Client, url string) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

var clients []*http.Client // kept alive: the clients are still in use

func main() {
	nclients := flag.Int("clients", 4, "keep-alive clients, each with one idle connection")
	dump := dumpout.Register(flag.CommandLine, "debug2")
	flag.Parse()
	if err := dump.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "healthy-http:", err)
		os.Exit(2)
	}

	base, err := startServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, "healthy-http:", err)
		os.Exit(1)
	}
	var wg sync.WaitGroup
	errs := make(chan error, *nclients)
	for i := 0; i < *nclients; i++ {
		c := newClient()
		clients = append(clients, c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 3; j++ {
				if err := get(c, base+"/hello"); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		fmt.Fprintln(os.Stderr, "healthy-http:", err)
		os.Exit(1)
	}
	dump.Main()
}
