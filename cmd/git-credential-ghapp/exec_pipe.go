//go:build unix

package main

import (
	"errors"
	"syscall"
)

// pipeFile returns the read end of a pipe that holds request, the writer already closed. The
// request must fit in the pipe's buffer (at least 16 KiB on the systems Go supports; git's
// requests are a few hundred bytes); a larger one is an error rather than a hang.
func pipeFile(request []byte) (int, error) {
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		return -1, err
	}
	r, w := p[0], p[1]
	if err := syscall.SetNonblock(w, true); err != nil {
		syscall.Close(r)
		syscall.Close(w)
		return -1, err
	}
	for b := request; len(b) > 0; {
		n, err := syscall.Write(w, b)
		if err != nil || n <= 0 {
			syscall.Close(r)
			syscall.Close(w)
			if err == nil || errors.Is(err, syscall.EAGAIN) {
				err = errors.New("the request is too large")
			}
			return -1, err
		}
		b = b[n:]
	}
	syscall.Close(w)
	return r, nil
}
