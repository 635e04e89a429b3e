// Package bad: a chat room that registers sockets and never notices one going away.
package bad

import (
	"context"
	"net"
	"sync"

	"github.com/gorilla/websocket"
)

type client struct {
	ws     *websocket.Conn
	cancel context.CancelFunc
}

// Room's only way to drop a client is Leave, which nothing in this package calls.
type Room struct {
	mu      sync.Mutex
	clients map[string]*client
	peers   map[net.Conn]bool
}

func (r *Room) Join(name string, ws *websocket.Conn) {
	ctx, cancel := context.WithCancel(context.Background()) // want: conn-without-close-handling
	c := &client{ws: ws, cancel: cancel}
	r.mu.Lock()
	r.clients[name] = c
	r.mu.Unlock()
	go r.ping(ctx, c)
}

func (r *Room) ping(ctx context.Context, c *client) {
	<-ctx.Done()
	_ = c.ws.Close()
}

func (r *Room) Leave(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.clients[name]; ok {
		c.cancel()
		delete(r.clients, name)
	}
}

func (r *Room) AddPeer(conn net.Conn) {
	r.mu.Lock()
	r.peers[conn] = true // want: conn-without-close-handling
	r.mu.Unlock()
}

func (r *Room) DropPeer(conn net.Conn) {
	r.mu.Lock()
	delete(r.peers, conn)
	r.mu.Unlock()
}
