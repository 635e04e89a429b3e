// Command notify-load drives cmd/notify-server the way the incident's users
// did: browsers subscribe over WebSocket and then vanish without a close frame
// (laptop lid shut, network dropped), while the backend keeps broadcasting.
//
// The load runs in phases, in this order:
//
//  1. -clients users subscribe (user IDs <prefix>0 .. <prefix>N-1) and vanish:
//     the driver closes the TCP connection under the WebSocket, so no close
//     frame is sent.
//  2. It waits -settle. If the server's -heartbeat is shorter, every vanished
//     socket has been pinged by then and reset by the client's kernel, so the
//     first broadcast already fails to write and kills each pump. With a
//     longer heartbeat the first write still succeeds (TCP accepts data after
//     the peer's FIN) and the pumps die on the second broadcast instead.
//  3. -broadcasts rounds of POST /broadcast, -pause apart.
//  4. -late-clients more users subscribe and vanish. They have never been sent
//     anything, so on the leaky server their pumps are still waiting.
//  5. -publishes POST /publish calls, round-robin over the phase-1 users.
//
// With -target-goroutines G the driver instead steers the server to exactly G
// goroutines as reported by GET /stats: it broadcasts (at most -broadcasts
// rounds) while one more round cannot overshoot, adds the late clients, then
// fills the rest with single publishes, each of which can add at most one
// goroutine (one blocked publisher). It fails if it overshoots or stops making
// progress, which is what happens against the fixed server.
//
// Either way it ends by printing the load it applied as flags. Passing those
// flags without -target-goroutines replays exactly that load, which is how
// "the fixed service under the same load" is produced.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

type config struct {
	base        *url.URL
	clients     int
	late        int
	broadcasts  int
	publishes   int
	target      int
	concurrency int
	prefix      string
	settle      time.Duration
	pause       time.Duration
	stable      time.Duration
}

// applied is the load actually sent, in the units the flags use.
type applied struct {
	clients, late, broadcasts, publishes int
}

func (a applied) flags() string {
	return fmt.Sprintf("-clients %d -broadcasts %d -late-clients %d -publishes %d",
		a.clients, a.broadcasts, a.late, a.publishes)
}

type stats struct {
	Variant       string `json:"variant"`
	Goroutines    int    `json:"goroutines"`
	Subscriptions int    `json:"subscriptions"`
}

type driver struct {
	cfg config
	// load carries broadcasts and publishes over keep-alive connections.
	load *http.Client
	// probe asks /stats over a fresh connection every time. Idle keep-alive
	// connections each hold a goroutine on the server, so they are closed
	// before measuring: the count /stats reports is then what a single curl
	// of /debug/pprof/goroutine will see.
	probe *http.Client
	done  applied
}

func main() {
	var cfg config
	rawURL := flag.String("url", "", "server base URL, e.g. http://127.0.0.1:8080 (required)")
	flag.IntVar(&cfg.clients, "clients", 200, "users that subscribe and vanish before the broadcasts")
	flag.IntVar(&cfg.broadcasts, "broadcasts", 3, "broadcast rounds (with -target-goroutines: the maximum)")
	flag.IntVar(&cfg.late, "late-clients", 0, "users that subscribe and vanish after the broadcasts")
	flag.IntVar(&cfg.publishes, "publishes", 0, "single-user publishes after the late clients (ignored with -target-goroutines)")
	flag.IntVar(&cfg.target, "target-goroutines", 0, "steer the server to exactly this many goroutines (0: off)")
	flag.IntVar(&cfg.concurrency, "concurrency", 64, "parallel connections used to apply load")
	flag.StringVar(&cfg.prefix, "user-prefix", "u", "prefix of generated user IDs")
	flag.DurationVar(&cfg.settle, "settle", 2500*time.Millisecond, "wait after the first clients vanish, before broadcasting")
	flag.DurationVar(&cfg.pause, "pause", 100*time.Millisecond, "pause between broadcast rounds")
	flag.DurationVar(&cfg.stable, "stable", 300*time.Millisecond, "a /stats reading counts once it holds this long")
	flag.Parse()
	log.SetPrefix("notify-load: ")
	log.SetFlags(0)

	if *rawURL == "" {
		log.Fatal("-url is required")
	}
	base, err := url.Parse(*rawURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		log.Fatalf("bad -url %q: want http://host:port", *rawURL)
	}
	cfg.base = base
	if cfg.clients < 1 || cfg.late < 0 || cfg.broadcasts < 0 || cfg.publishes < 0 || cfg.concurrency < 1 {
		log.Fatal("-clients must be positive; -late-clients, -broadcasts, -publishes must not be negative")
	}

	d := &driver{
		cfg: cfg,
		load: &http.Client{
			Timeout:   30 * time.Second,
			Transport: &http.Transport{MaxIdleConnsPerHost: cfg.concurrency},
		},
		probe: &http.Client{
			Timeout:   30 * time.Second,
			Transport: &http.Transport{DisableKeepAlives: true},
		},
	}

	start := time.Now()
	var runErr error
	if cfg.target > 0 {
		runErr = d.runTarget()
	} else {
		runErr = d.runFixedLoad()
	}
	final, err := d.settled()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("load applied: %s\n", d.done.flags())
	fmt.Printf("server %s: goroutines=%d subscriptions=%d (after %s)\n",
		final.Variant, final.Goroutines, final.Subscriptions, time.Since(start).Round(time.Millisecond))
	if runErr != nil {
		log.Fatal(runErr)
	}
}

// runFixedLoad applies exactly the load given by the flags.
func (d *driver) runFixedLoad() error {
	c := d.cfg
	if err := d.subscribeAndVanish(0, c.clients); err != nil {
		return err
	}
	d.done.clients = c.clients
	time.Sleep(c.settle)
	for i := 0; i < c.broadcasts; i++ {
		if i > 0 {
			time.Sleep(c.pause)
		}
		if err := d.broadcast(); err != nil {
			return err
		}
		d.done.broadcasts++
	}
	if err := d.subscribeAndVanish(c.clients, c.late); err != nil {
		return err
	}
	d.done.late = c.late
	_, err := d.publish(c.publishes)
	return err
}

// runTarget steers the server to exactly cfg.target goroutines.
func (d *driver) runTarget() error {
	c := d.cfg
	if err := d.subscribeAndVanish(0, c.clients); err != nil {
		return err
	}
	d.done.clients = c.clients
	time.Sleep(c.settle)
	cur, err := d.settled()
	if err != nil {
		return err
	}
	log.Printf("after %d clients: %d goroutines, %d subscriptions", c.clients, cur.Goroutines, cur.Subscriptions)

	// Each late client adds at most two goroutines (pump and heartbeat);
	// keep room for them.
	reserve := 2 * c.late
	// One round adds at most one goroutine per subscription (a delivery that
	// may block); pumps can only die. So this bound never overshoots.
	for d.done.broadcasts < c.broadcasts && cur.Goroutines+cur.Subscriptions+reserve <= c.target {
		if err := d.broadcast(); err != nil {
			return err
		}
		d.done.broadcasts++
		time.Sleep(c.pause)
		if cur, err = d.settled(); err != nil {
			return err
		}
		log.Printf("after broadcast %d: %d goroutines", d.done.broadcasts, cur.Goroutines)
	}

	if err := d.subscribeAndVanish(c.clients, c.late); err != nil {
		return err
	}
	d.done.late = c.late
	if cur, err = d.settled(); err != nil {
		return err
	}
	log.Printf("after %d late clients: %d goroutines", c.late, cur.Goroutines)

	for cur.Goroutines != c.target {
		missing := c.target - cur.Goroutines
		if missing < 0 {
			return fmt.Errorf("overshot: server has %d goroutines, target %d", cur.Goroutines, c.target)
		}
		delivered, err := d.publish(missing)
		if err != nil {
			return err
		}
		prev := cur.Goroutines
		if cur, err = d.settled(); err != nil {
			return err
		}
		log.Printf("after %d publishes (%d to subscribed users): %d goroutines", missing, delivered, cur.Goroutines)
		if cur.Goroutines <= prev {
			return fmt.Errorf("cannot reach %d goroutines: the server stays at %d (publishes no longer add goroutines)",
				c.target, cur.Goroutines)
		}
	}
	return nil
}

// subscribeAndVanish opens n WebSockets for users first..first+n-1 and drops
// each one's TCP connection right after the handshake, without a close frame.
func (d *driver) subscribeAndVanish(first, n int) error {
	wsURL := *d.cfg.base
	wsURL.Scheme = strings.Replace(wsURL.Scheme, "http", "ws", 1)
	wsURL.Path = strings.TrimSuffix(wsURL.Path, "/") + "/ws"
	dialer := websocket.Dialer{HandshakeTimeout: 30 * time.Second}

	return d.parallel(n, func(ctx context.Context, i int) error {
		u := wsURL
		u.RawQuery = url.Values{"user": {d.user(first + i)}}.Encode()
		ws, resp, err := dialer.DialContext(ctx, u.String(), nil)
		if err != nil {
			return fmt.Errorf("subscribe %s: %w", u.String(), err)
		}
		resp.Body.Close()
		// Vanish: close the socket under the WebSocket. ws.Close would do the
		// same here (gorilla's Close sends no close frame either), but this
		// states the intent.
		return ws.NetConn().Close()
	})
}

func (d *driver) broadcast() error {
	_, err := d.post(d.endpoint("/broadcast", nil))
	return err
}

// publish sends n single-user publishes round-robin over the phase-1 users,
// continuing where the previous call stopped, and returns how many reached a
// subscribed user.
func (d *driver) publish(n int) (int, error) {
	var delivered atomic.Int64
	first := d.done.publishes
	err := d.parallel(n, func(ctx context.Context, i int) error {
		user := d.user((first + i) % d.cfg.clients)
		r, err := d.post(d.endpoint("/publish", url.Values{"user": {user}}))
		delivered.Add(int64(r))
		return err
	})
	d.done.publishes += n
	return int(delivered.Load()), err
}

// post sends an empty POST and returns the "recipients" count of the reply.
func (d *driver) post(u string) (int, error) {
	resp, err := d.load.Post(u, "application/json", nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return 0, fmt.Errorf("POST %s: %s: %s", u, resp.Status, strings.TrimSpace(string(b)))
	}
	var r struct {
		Recipients int `json:"recipients"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, fmt.Errorf("POST %s: %w", u, err)
	}
	return r.Recipients, nil
}

// settled polls /stats until the goroutine and subscription counts hold
// still for cfg.stable, and returns that reading.
func (d *driver) settled() (stats, error) {
	d.load.CloseIdleConnections()
	deadline := time.Now().Add(2 * time.Minute)
	last, err := d.stats()
	if err != nil {
		return last, err
	}
	since := time.Now()
	for time.Since(since) < d.cfg.stable {
		if time.Now().After(deadline) {
			return last, errors.New("server goroutine count did not settle within 2m")
		}
		time.Sleep(d.cfg.stable / 4)
		s, err := d.stats()
		if err != nil {
			return s, err
		}
		if s != last {
			last, since = s, time.Now()
		}
	}
	return last, nil
}

func (d *driver) stats() (stats, error) {
	var s stats
	resp, err := d.probe.Get(d.endpoint("/stats", nil))
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("GET /stats: %s", resp.Status)
	}
	return s, json.NewDecoder(resp.Body).Decode(&s)
}

// parallel runs fn(i) for i in [0,n) on cfg.concurrency workers and returns
// the first error, after which remaining work is skipped.
func (d *driver) parallel(n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		next    atomic.Int64
		errOnce sync.Once
		first   error
		wg      sync.WaitGroup
	)
	for range min(d.cfg.concurrency, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(ctx, i); err != nil {
					errOnce.Do(func() { first = err; cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

func (d *driver) user(i int) string { return fmt.Sprintf("%s%d", d.cfg.prefix, i) }

func (d *driver) endpoint(path string, q url.Values) string {
	u := *d.cfg.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery = q.Encode()
	return u.String()
}

func init() {
	// Fail fast with a clear message when run without arguments by mistake.
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: notify-load -url http://HOST:PORT [flags]\n\n")
		flag.PrintDefaults()
	}
}
