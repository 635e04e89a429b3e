// Command hostile-pprof serves a goroutine profile built to exhaust a careless reader: a small
// gzip (about 140 KB for 12 million samples) of one stack repeated as millions of separate
// samples, the shape a buggy or malicious target could serve. Everything else answers 404.
// It prints `listening on http://ADDR` first, like the other testdata servers.
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
)

// appendVarint and appendField write just enough of the protobuf wire format for a profile.
func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendBytes(b []byte, field int, data []byte) []byte {
	b = appendVarint(b, uint64(field)<<3|2)
	b = appendVarint(b, uint64(len(data)))
	return append(b, data...)
}

func appendUint(b []byte, field int, v uint64) []byte {
	b = appendVarint(b, uint64(field)<<3)
	return appendVarint(b, v)
}

func profile(samples int) []byte {
	strs := []string{"", "goroutine", "count", "main.stuck", "/app/main.go"}
	var p []byte
	// sample_type {type: "goroutine", unit: "count"}; period_type the same.
	vt := appendUint(appendUint(nil, 1, 1), 2, 2)
	p = appendBytes(p, 1, vt)
	// One sample: location 1, value 1. Repeated, never merged.
	var s []byte
	s = appendBytes(s, 1, []byte{1})
	s = appendBytes(s, 2, []byte{1})
	one := appendBytes(nil, 2, s)
	body := bytes.Repeat(one, samples)
	p = append(p, body...)
	// location {id 1, line {function_id 1, line 7}}
	line := appendUint(appendUint(nil, 1, 1), 2, 7)
	loc := appendBytes(appendUint(nil, 1, 1), 4, line)
	p = appendBytes(p, 4, loc)
	// function {id 1, name "main.stuck", system_name same, filename "/app/main.go"}
	fn := appendUint(appendUint(appendUint(appendUint(nil, 1, 1), 2, 3), 3, 3), 4, 4)
	p = appendBytes(p, 5, fn)
	for _, str := range strs {
		p = appendBytes(p, 6, []byte(str))
	}
	p = appendBytes(p, 11, vt)
	p = appendUint(p, 12, 1)
	var gz bytes.Buffer
	w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	w.Write(p)
	w.Close()
	return gz.Bytes()
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	samples := flag.Int("samples", 12_000_000, "identical samples in the goroutine profile")
	flag.Parse()
	body := profile(*samples)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("listening on http://%s (goroutine profile: %d samples, %d bytes gzip)\n", ln.Addr(), *samples, len(body))
	http.HandleFunc("/debug/pprof/goroutine", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(body)
	})
	http.Serve(ln, nil)
}
