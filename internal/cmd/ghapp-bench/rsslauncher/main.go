//go:build unix

// Command rsslauncher runs a command and reports its peak resident set size. ghapp-bench starts
// the commands it measures through it because the peak RSS the kernel reports for a child
// includes the memory of the process that started it (the high-water mark of the address space
// the child was forked or vforked from is folded into the child's at exec): started from the
// benchmark itself, every child would appear to use the benchmark's own 12 MiB. This launcher is
// as small as a Go program gets, and ghapp-bench reports its floor.
//
// Usage: rsslauncher COMMAND [ARGS...] 3>FILE
//
// The command inherits stdin, stdout, stderr and the environment; its peak RSS in KiB is written
// to file descriptor 3, and the launcher exits with the command's status (127 when it cannot start).
package main

import (
	"os"
	"runtime"
	"strconv"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		os.Stderr.WriteString("usage: rsslauncher COMMAND [ARGS...] 3>FILE\n")
		os.Exit(2)
	}
	pid, err := syscall.ForkExec(os.Args[1], os.Args[1:], &syscall.ProcAttr{Env: os.Environ(), Files: []uintptr{0, 1, 2}})
	if err != nil {
		os.Stderr.WriteString("rsslauncher: " + err.Error() + "\n")
		os.Exit(127)
	}
	var ws syscall.WaitStatus
	var ru syscall.Rusage
	for {
		_, err = syscall.Wait4(pid, &ws, 0, &ru)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		os.Stderr.WriteString("rsslauncher: " + err.Error() + "\n")
		os.Exit(127)
	}
	kib := int64(ru.Maxrss)
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		kib /= 1024 // bytes there, KiB on Linux and the BSDs
	}
	os.NewFile(3, "rss").WriteString(strconv.FormatInt(kib, 10) + "\n")
	if ws.Signaled() {
		os.Exit(128 + int(ws.Signal()))
	}
	os.Exit(ws.ExitStatus())
}
