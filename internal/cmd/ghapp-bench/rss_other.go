//go:build !unix

package main

import (
	"context"
	"errors"
	"os"
)

// minorFaults is 0 here: wait4's rusage is Unix's.
func minorFaults(*os.ProcessState) int64 { return 0 }

// peakRSS is not available here: it needs wait4's rusage.
func peakRSS(context.Context, string, *process) (int64, error) {
	return 0, errors.New("peak RSS is measured only on Unix")
}
