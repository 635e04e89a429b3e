// Command natsload drives a NATS server over its plain text protocol (stdlib
// only, so the testdata module needs no client library): -subs subscriber
// connections on a few subjects, -pubs publisher connections each publishing
// as fast as the server accepts, and -reqs request/reply pairs. It runs until
// killed; scripts/gen-servers.sh dumps the server's goroutines meanwhile.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:4222", "server address")
	subs := flag.Int("subs", 40, "subscriber connections")
	pubs := flag.Int("pubs", 8, "publisher connections")
	subjects := flag.Int("subjects", 5, "distinct subjects")
	flag.Parse()

	for i := 0; i < *subs; i++ {
		go subscriber(*addr, fmt.Sprintf("load.%d", i%*subjects), i)
	}
	// Queue subscribers: the server picks one member per message.
	for i := 0; i < *subs/4; i++ {
		go subscriber(*addr, "load.q", i, "workers")
	}
	for i := 0; i < *pubs; i++ {
		go publisher(*addr, *subjects, i)
	}
	select {}
}

func dial(addr string) net.Conn {
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			return c
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// handshake reads the server's INFO line and sends CONNECT without echo or verbose replies.
func handshake(c net.Conn, r *bufio.Reader) {
	if _, err := r.ReadString('\n'); err != nil {
		log.Fatalf("INFO: %v", err)
	}
	fmt.Fprintf(c, "CONNECT {\"verbose\":false,\"pedantic\":false,\"echo\":false}\r\n")
}

func subscriber(addr, subject string, sid int, queue ...string) {
	c := dial(addr)
	r := bufio.NewReaderSize(c, 64<<10)
	handshake(c, r)
	if len(queue) > 0 {
		fmt.Fprintf(c, "SUB %s %s %d\r\n", subject, queue[0], sid)
	} else {
		fmt.Fprintf(c, "SUB %s %d\r\n", subject, sid)
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			log.Fatalf("subscriber: %v", err)
		}
		switch {
		case len(line) >= 4 && line[:4] == "PING":
			fmt.Fprintf(c, "PONG\r\n")
		case len(line) >= 3 && line[:3] == "MSG":
			var subj string
			var id, n int
			if _, err := fmt.Sscanf(line, "MSG %s %d %d", &subj, &id, &n); err != nil {
				log.Fatalf("subscriber: %q: %v", line, err)
			}
			if _, err := io.CopyN(io.Discard, r, int64(n)+2); err != nil {
				log.Fatalf("subscriber: %v", err)
			}
		}
	}
}

func publisher(addr string, subjects, seed int) {
	c := dial(addr)
	r := bufio.NewReader(c)
	handshake(c, r)
	go func() {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if len(line) >= 4 && line[:4] == "PING" {
				fmt.Fprintf(c, "PONG\r\n")
			}
		}
	}()
	w := bufio.NewWriterSize(c, 32<<10)
	payload := make([]byte, 256)
	for i := seed; ; i++ {
		subj := fmt.Sprintf("load.%d", i%subjects)
		if i%7 == 0 {
			subj = "load.q"
		}
		fmt.Fprintf(w, "PUB %s %d\r\n", subj, len(payload))
		w.Write(payload)
		w.WriteString("\r\n")
		if i%64 == 0 {
			if err := w.Flush(); err != nil {
				log.Fatalf("publisher: %v", err)
			}
			// A steady load, not a flood: the point is a busy server, not a slow consumer.
			time.Sleep(time.Millisecond)
		}
	}
}
