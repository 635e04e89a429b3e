// Package dumpout writes a goroutine dump of the current process in one of
// the forms the Go runtime produces, after the program has set up the
// goroutines it wants to show. It is shared by the fixture programs under
// testdata/cmd so that every program accepts the same flags:
//
//	-form  debug2 | debug1 | proto | leak-debug2 | leak-debug1 | leak-proto | stack
//	-o     output file (default: stdout)
//	-wait  extra time to wait before dumping (for the ", N minutes" field)
//	-serve ADDR: serve net/http/pprof on ADDR instead of dumping; the first
//	       stdout line is "listening on http://127.0.0.1:PORT"
//
// Nothing here formats a dump: every byte written comes from runtime/pprof or
// runtime.Stack.
package dumpout

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/* on http.DefaultServeMux
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"
)

// Forms lists the accepted values of -form.
var Forms = []string{"debug2", "debug1", "proto", "leak-debug2", "leak-debug1", "leak-proto", "stack"}

// Options holds the values of the shared flags.
type Options struct {
	Form  string
	Out   string
	Wait  time.Duration
	Serve string
}

// Register adds -form, -o, -wait and -serve to fs and returns the options
// they fill in. defaultForm is the value of -form when it is not given.
func Register(fs *flag.FlagSet, defaultForm string) *Options {
	o := &Options{}
	fs.StringVar(&o.Form, "form", defaultForm, "dump form: "+strings.Join(Forms, ", "))
	fs.StringVar(&o.Out, "o", "", "write the dump to this file (default stdout)")
	fs.DurationVar(&o.Wait, "wait", 0, "extra wait before dumping (>=1m makes the ', N minutes' field appear)")
	fs.StringVar(&o.Serve, "serve", "", "instead of dumping, serve net/http/pprof on this address (e.g. 127.0.0.1:0) and block")
	return o
}

// Validate reports an unknown form or a leak form in a binary built without
// GOEXPERIMENT=goroutineleakprofile.
func (o *Options) Validate() error {
	known := false
	for _, f := range Forms {
		if o.Form == f {
			known = true
		}
	}
	if !known {
		return fmt.Errorf("unknown -form %q (want one of %s)", o.Form, strings.Join(Forms, ", "))
	}
	if strings.HasPrefix(o.Form, "leak-") && !LeakProfileAvailable() {
		return errors.New("the goroutineleak profile is not available in this binary: " +
			"build it with GOEXPERIMENT=goroutineleakprofile (Go 1.26) or use Go 1.27+")
	}
	return nil
}

// LeakProfileAvailable reports whether runtime/pprof has the goroutineleak profile.
func LeakProfileAvailable() bool {
	return pprof.Lookup("goroutineleak") != nil
}

// Settle lets freshly started goroutines reach their blocking points and
// runs a GC, which stamps the wait start of every blocked goroutine (the
// runtime only starts counting ", N minutes" at the first GC that sees a
// goroutine blocked).
func Settle() {
	for i := 0; i < 10; i++ {
		runtime.Gosched()
	}
	time.Sleep(100 * time.Millisecond)
	runtime.GC()
}

// Run settles, then either serves pprof (blocking forever) or waits -wait,
// runs a GC again and writes the requested dump.
func (o *Options) Run() error {
	if err := o.Validate(); err != nil {
		return err
	}
	Settle()
	if o.Serve != "" {
		return serve(o.Serve)
	}
	if o.Wait > 0 {
		time.Sleep(o.Wait)
		runtime.GC()
	}
	var w io.Writer = os.Stdout
	if o.Out != "" {
		f, err := os.Create(o.Out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	if err := Write(w, o.Form); err != nil {
		return err
	}
	if f, ok := w.(*os.File); ok && o.Out != "" {
		return f.Close()
	}
	return nil
}

// Main is Run for use at the end of main: it exits with status 1 and a
// message on stderr when the dump cannot be written.
func (o *Options) Main() {
	if err := o.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "dumpout:", err)
		os.Exit(1)
	}
}

// Write writes the dump of the given form to w.
func Write(w io.Writer, form string) error {
	switch form {
	case "debug2":
		return pprof.Lookup("goroutine").WriteTo(w, 2)
	case "debug1":
		return pprof.Lookup("goroutine").WriteTo(w, 1)
	case "proto":
		return pprof.Lookup("goroutine").WriteTo(w, 0)
	case "leak-debug2", "leak-debug1", "leak-proto":
		p := pprof.Lookup("goroutineleak")
		if p == nil {
			return errors.New("goroutineleak profile not available: build with GOEXPERIMENT=goroutineleakprofile")
		}
		debug := map[string]int{"leak-debug2": 2, "leak-debug1": 1, "leak-proto": 0}[form]
		return p.WriteTo(w, debug)
	case "stack":
		_, err := w.Write(AllStacks())
		return err
	}
	return fmt.Errorf("unknown form %q", form)
}

// AllStacks returns runtime.Stack(buf, true), growing buf until it fits.
func AllStacks() []byte {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return buf[:n]
		}
		buf = make([]byte, 2*len(buf))
	}
}

func serve(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	fmt.Printf("listening on http://127.0.0.1:%d\n", port)
	os.Stdout.Sync()
	return http.Serve(ln, nil)
}
