// Package harden makes the running process harder for other processes of the same user to read:
// on Linux it marks the process non-dumpable, so that no core file is written for it and a
// same-user process cannot ptrace it or read its memory through /proc, where the private key and
// tokens live while it runs. Elsewhere it does nothing.
package harden

// Process hardens the running process; call it as main starts, before the process reads any
// secret (on Linux, a process that is not dumpable can no longer open its own /proc/self files
// such as environ unless it is root). It reports an error only
// where the OS refused; callers may ignore it (the helper works without it).
func Process() error { return process() }
