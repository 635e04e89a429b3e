// Package good: the same room, with a read loop that unregisters a socket when it fails.
package good

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

type Room struct {
	mu      sync.Mutex
	clients map[string]*client
	peers   map[net.Conn]bool
}

func (r *Room) Join(name string, ws *websocket.Conn) {
	ctx, cancel := context.WithCancel(context.Background())
	c := &client{ws: ws, cancel: cancel}
	r.mu.Lock()
	r.clients[name] = c
	r.mu.Unlock()
	go r.readLoop(name, c)
	<-ctx.Done()
}

func (r *Room) readLoop(name string, c *client) {
	defer r.leave(name)
	for {
		if _, _, err := c.ws.ReadMessage(); err != nil {
			return
		}
	}
}

func (r *Room) leave(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.clients[name]; ok {
		c.cancel()
		delete(r.clients, name)
		_ = c.ws.Close()
	}
}

func (r *Room) AddPeer(conn net.Conn) {
	r.mu.Lock()
	r.peers[conn] = true
	r.mu.Unlock()
	go func() {
		defer func() {
			r.mu.Lock()
			delete(r.peers, conn)
			r.mu.Unlock()
		}()
		buf := make([]byte, 512)
		for {
			if _, err := conn.Read(buf); err != nil {
				return
			}
		}
	}()
}
