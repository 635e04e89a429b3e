// Command good-main starts process-long background loops from helpers that only main calls:
// they are meant to live as long as the process, so none may be reported.
package main

import (
	"log"
	"time"
)

func startReporter(every time.Duration) {
	go func() {
		for {
			time.Sleep(every)
			log.Println("still alive")
		}
	}()
}

func startAll() { startReporter(time.Minute) }

func main() {
	startAll()
	select {}
}
