//go:build !linux

package main

import "os"

// environScanned is false outside Linux: environ reads nothing itself.
var environScanned bool

// environ returns how the front reads its environment: os.Getenv (see environ_linux.go).
func environ() func(string) string { return os.Getenv }
