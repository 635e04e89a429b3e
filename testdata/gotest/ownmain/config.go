// Package ownmain loads and watches a small key=value configuration file.
// Its tests have their own TestMain (main_test.go), so a tool cannot add one
// through an overlay; one test leaks on purpose (see LEAKS.md one directory up).
package ownmain

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"strings"
	"time"
)

// Config is a parsed configuration file.
type Config map[string]string

// Parse reads key=value lines; blank lines and lines starting with # are skipped.
func Parse(data []byte) (Config, error) {
	cfg := Config{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: missing '='", n)
		}
		cfg[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return cfg, sc.Err()
}

// Load reads and parses the file at path.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data)
}

// Watch sends the configuration at path on the returned channel, then polls
// the file every interval and sends it again whenever it changed. The polling
// goroutine runs until ctx is cancelled, then closes the channel: with a ctx
// that is never cancelled (context.Background()) it runs forever.
func Watch(ctx context.Context, path string, interval time.Duration) <-chan Config {
	out := make(chan Config)
	go func() {
		defer close(out)
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		var last Config
		for {
			if cfg, err := Load(path); err == nil && !maps.Equal(cfg, last) {
				last = cfg
				select {
				case out <- cfg:
				case <-ctx.Done():
					return
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
		}
	}()
	return out
}
