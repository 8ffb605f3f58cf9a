// The front lives a few milliseconds and runs one goroutine, yet Go's runtime would start
// another after init to follow changes of the CPU limit (updatemaxprocs): its stack and the
// page cache it takes cost every cached get page faults, for nothing the front uses. The full
// helper is another binary and keeps Go's defaults; GODEBUG in the environment still overrides
// this. (containermaxprocs=0 would not help: the runtime reads the cgroup files at start
// either way.)

//go:debug updatemaxprocs=0

package main
