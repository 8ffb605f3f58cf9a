package main

import (
	"os"

	opts "github.com/git-credential-ghapp/git-credential-ghapp/internal/options"
)

// heldLock returns nil: the front on Windows hands over no lock (a child cannot take over its
// parent's). The variable is removed all the same, so that nothing this process runs inherits it.
func heldLock() *os.File {
	os.Unsetenv(opts.HeldLockVar)
	return nil
}
