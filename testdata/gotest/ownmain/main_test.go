package ownmain

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// configPath is the file that TestMain writes for every test to read.
var configPath string

// TestMain writes a configuration file into a temporary directory, runs the
// tests, and removes the directory.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ownmain-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "setup:", err)
		os.Exit(1)
	}
	configPath = filepath.Join(dir, "app.conf")
	if err := os.WriteFile(configPath, []byte("# test config\nlisten = :8080\nlog = debug\n"), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "setup:", err)
		os.Exit(1)
	}

	code := m.Run()

	os.RemoveAll(dir)
	os.Exit(code)
}
