//go:build !unix

package main

import "os"

// main fails: peak RSS comes from wait4's rusage, which only Unix has.
func main() {
	os.Stderr.WriteString("rsslauncher: peak RSS is measured only on Unix\n")
	os.Exit(2)
}
