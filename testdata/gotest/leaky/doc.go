// Package leaky is a small notification library with three goroutine leaks
// that its tests trigger on purpose. LEAKS.md (one directory up) lists which
// tests leak, how many goroutines, and where they are blocked.
package leaky
