// The front lives a few milliseconds and runs one goroutine. Go's runtime would start a
// goroutine after init to follow changes of the CPU limit (updatemaxprocs), and read the
// process's cgroup files at start to set GOMAXPROCS from that limit (containermaxprocs): page
// faults and system calls on every cached get, for nothing the front uses. The full helper is
// another binary and keeps Go's defaults. GODEBUG in the environment still overrides these.

//go:debug updatemaxprocs=0
//go:debug containermaxprocs=0

package main
