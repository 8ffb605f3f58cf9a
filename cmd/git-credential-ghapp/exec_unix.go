//go:build unix

package main

import (
	"fmt"
	"os"
	"syscall"
)

// handOver replaces this process with the full helper at path, with the same arguments and
// environment. When request is not nil (the front has read it), the helper's standard input
// becomes a file holding exactly it (see requestFile); otherwise stdin is passed on untouched.
// It returns only on failure.
func handOver(path string, argv []string, request []byte) error {
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
	err := syscall.Exec(path, argv, os.Environ())
	return fmt.Errorf("cannot run %s: %v", path, err)
}
