package harden

import "syscall"

// From linux/prctl.h.
const (
	prGetDumpable = 3
	prSetDumpable = 4
)

func process() error {
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetDumpable, 0, 0); errno != 0 {
		return errno
	}
	return nil
}

// dumpable returns PR_GET_DUMPABLE: 0 when the process is not dumpable.
func dumpable() (int, error) {
	r, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prGetDumpable, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}
