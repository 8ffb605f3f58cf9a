//go:build !unix

package main

import (
	"context"
	"errors"
)

// peakRSS is not available here: it needs wait4's rusage.
func peakRSS(context.Context, string, *process) (int64, error) {
	return 0, errors.New("peak RSS is measured only on Unix")
}
