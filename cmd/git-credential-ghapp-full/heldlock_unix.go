//go:build unix

package main

import (
	"os"
	"syscall"

	opts "github.com/git-credential-ghapp/git-credential-ghapp/internal/options"
)

// heldLock returns the cache lock the front handed over with this request (see
// opts.HeldLockVar), or nil. The variable is removed, and the descriptor closed on exec, so that
// nothing this process runs inherits either. Only a regular file is taken: a number that names
// anything else (a terminal, a pipe) is left alone, and the broker checks that a file is the
// very lock it asks for before it counts it as held.
func heldLock() *os.File {
	fd, ok := opts.HeldLock(os.Getenv)
	os.Unsetenv(opts.HeldLockVar)
	if !ok {
		return nil
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return nil
	}
	syscall.CloseOnExec(fd)
	return os.NewFile(uintptr(fd), opts.HeldLockVar)
}
