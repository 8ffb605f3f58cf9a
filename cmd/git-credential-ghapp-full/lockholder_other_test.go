//go:build !unix

package main

import "github.com/rogpeppe/go-internal/testscript"

// cmdStoppedHolder needs flock and SIGSTOP; scenarios that use it skip on other systems.
func cmdStoppedHolder(ts *testscript.TestScript, neg bool, args []string) {
	ts.Fatalf("stoppedholder: not on this system")
}
