// Command dnsload sends DNS queries over UDP and TCP to a server (stdlib only:
// the messages are built by hand, RFC 1035 section 4), from -workers loops,
// for names the server answers from its hosts file and for names it does not
// know. It runs until killed; scripts/gen-servers.sh dumps the server meanwhile.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"time"
)

// query builds a standard query with one question of type A, class IN.
func query(id uint16, name string) []byte {
	b := make([]byte, 12, 64)
	binary.BigEndian.PutUint16(b[0:], id)
	binary.BigEndian.PutUint16(b[2:], 0x0100) // recursion desired
	binary.BigEndian.PutUint16(b[4:], 1)      // one question
	for _, label := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		b = append(b, byte(len(label)))
		b = append(b, label...)
	}
	return append(b, 0, 0, 1, 0, 1)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:53", "server address")
	workers := flag.Int("workers", 8, "query loops (a quarter of them over TCP)")
	flag.Parse()
	for i := 0; i < *workers; i++ {
		if i%4 == 3 {
			go tcpLoop(*addr, i)
		} else {
			go udpLoop(*addr, i)
		}
	}
	select {}
}

func name(i int) string {
	if i%3 == 0 {
		return fmt.Sprintf("missing-%d.example.org", i%50)
	}
	return fmt.Sprintf("host-%d.example.org", i%20)
}

func udpLoop(addr string, seed int) {
	c, err := net.Dial("udp", addr)
	if err != nil {
		log.Fatal(err)
	}
	buf := make([]byte, 1500)
	for i := seed; ; i++ {
		c.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Write(query(uint16(i), name(i))); err != nil {
			log.Printf("udp write: %v", err)
			continue
		}
		if _, err := c.Read(buf); err != nil {
			log.Printf("udp read: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
}

// tcpLoop keeps one connection and sends length-prefixed queries on it (RFC 1035 4.2.2).
func tcpLoop(addr string, seed int) {
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		for i := seed; ; i++ {
			q := query(uint16(i), name(i))
			msg := binary.BigEndian.AppendUint16(nil, uint16(len(q)))
			c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Write(append(msg, q...)); err != nil {
				break
			}
			var n [2]byte
			if _, err := io.ReadFull(c, n[:]); err != nil {
				break
			}
			if _, err := io.CopyN(io.Discard, c, int64(binary.BigEndian.Uint16(n[:]))); err != nil {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		c.Close()
	}
}
