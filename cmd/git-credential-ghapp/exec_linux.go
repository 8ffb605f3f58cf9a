package main

import (
	"golang.org/x/sys/unix"
)

// requestFile returns a file descriptor, positioned at its start, of an anonymous memory file
// holding request: it takes any size, and nothing of it reaches the file system, argv or the
// environment (an erase request carries a token).
func requestFile(request []byte) (int, error) {
	fd, err := unix.MemfdCreate("git-credential-ghapp-request", 0)
	if err != nil {
		return pipeFile(request)
	}
	for b := request; len(b) > 0; {
		n, err := unix.Write(fd, b)
		if err != nil {
			unix.Close(fd)
			return -1, err
		}
		b = b[n:]
	}
	if _, err := unix.Seek(fd, 0, 0); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

func dup2(from, to int) error { return unix.Dup3(from, to, 0) }
