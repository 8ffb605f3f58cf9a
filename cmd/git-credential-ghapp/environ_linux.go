package main

import (
	"os"
	"syscall"
)

// environScanned says whether environ read /proc/self/environ (for tests).
var environScanned bool

// environ returns how the front reads its environment. os.Getenv's first call copies the whole
// environment into a map: six page faults and about 0.04 ms of a cached get here, more where
// the environment is larger (a CI runner has over a hundred variables). The front asks for about
// twenty, so on Linux it picks those out of /proc/self/environ, the environment the process
// started with (nothing in the front changes its own before it hands over to the full helper,
// which reads its environment as usual). A name it did not pick, or a failed read, goes to
// os.Getenv, so it always answers what os.Getenv would.
func environ() func(string) string {
	fd, err := syscall.Open("/proc/self/environ", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return os.Getenv
	}
	defer syscall.Close(fd)
	s := &scanned
	*s = envScan{}
	s.name, s.value = s.nameBuf[:0], s.valueBuf[:0]
	var buf [1024]byte
	for {
		n, err := syscall.Read(fd, buf[:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return os.Getenv
		}
		if n == 0 {
			break
		}
		s.feed(buf[:n])
	}
	s.feed([]byte{0}) // the last entry ends with a NUL too; one more ends nothing new
	environScanned = true
	return scannedGetenv
}

// scanned holds what environ picked. It is a package variable, not a new envScan, for the same
// reason envScan has room for names and values: every heap allocation of a size the process
// has not used yet starts a span, and costs a cached get a page fault or two.
var scanned envScan

func scannedGetenv(name string) string { return scanned.getenv(name) }
