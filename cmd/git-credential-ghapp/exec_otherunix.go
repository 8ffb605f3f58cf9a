//go:build unix && !linux

package main

import "syscall"

// requestFile returns the read end of a pipe holding request (see pipeFile).
func requestFile(request []byte) (int, error) { return pipeFile(request) }

func dup2(from, to int) error { return syscall.Dup2(from, to) }
