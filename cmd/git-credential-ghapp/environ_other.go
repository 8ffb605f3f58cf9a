//go:build !linux

package main

import "os"

// environ returns how the front reads its environment: os.Getenv (see environ_linux.go).
func environ() func(string) string { return os.Getenv }
