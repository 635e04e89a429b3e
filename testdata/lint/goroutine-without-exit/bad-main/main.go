// Command bad-main starts an endless loop per request: the helper is reached from a handler,
// not only from main, so each request leaves a goroutine behind.
package main

import (
	"log"
	"net/http"
	"time"
)

func startReporter(every time.Duration) {
	go func() { // want: goroutine-without-exit
		for {
			time.Sleep(every)
			log.Println("still alive")
		}
	}()
}

func main() {
	startReporter(time.Minute)
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		startReporter(time.Second)
	})
	log.Fatal(http.ListenAndServe("localhost:0", nil))
}
