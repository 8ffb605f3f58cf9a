//go:build unix

package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"

	"github.com/git-credential-ghapp/git-credential-ghapp/cache"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/options"
)

// handsOverLocks: exec keeps the open files whose close-on-exec flag is cleared, and with them
// their locks.
const handsOverLocks = true

// handOver replaces this process with the full helper at path, with the same arguments and
// environment. When request is not nil (the front has read it), the helper's standard input
// becomes a file holding exactly it (see requestFile); otherwise stdin is passed on untouched.
// When held is not nil, the helper inherits the lock file's descriptor, still locked, and finds
// its number in options.HeldLockVar. It returns only on failure.
func handOver(path string, argv []string, request []byte, held *cache.Held) error {
	if request != nil {
		fd, err := requestFile(request)
		if err != nil {
			return fmt.Errorf("cannot hand the request to %s: %v", path, err)
		}
		if fd != 0 {
			if err := dup2(fd, 0); err != nil {
				return fmt.Errorf("cannot hand the request to %s: %v", path, err)
			}
			syscall.Close(fd)
		}
	}
	if err := handOverLock(held); err != nil {
		// The full helper takes the lock itself then: no worse than a front that took none.
		held.Release()
	}
	err := syscall.Exec(path, argv, os.Environ())
	return fmt.Errorf("cannot run %s: %v", path, err)
}

// handOverLock lets held's descriptor survive exec and names it in options.HeldLockVar; with no
// lock to hand over it removes any value the variable had, so that only the front sets it.
func handOverLock(held *cache.Held) error {
	if held == nil {
		return os.Unsetenv(options.HeldLockVar)
	}
	fd := int(held.File().Fd())
	if _, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_SETFD, 0); errno != 0 {
		os.Unsetenv(options.HeldLockVar)
		return errno
	}
	return os.Setenv(options.HeldLockVar, strconv.Itoa(fd))
}
