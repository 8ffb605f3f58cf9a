//go:build unix

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// minorFaults returns the page faults of the ended process that read no disk.
func minorFaults(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return int64(ru.Minflt)
	}
	return 0
}

// peakRSS runs p through the launcher (see ./rsslauncher for why) and returns its peak resident
// set size in KiB.
func peakRSS(ctx context.Context, launcher string, p *process) (int64, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	cmd := exec.CommandContext(ctx, launcher, append([]string{p.path}, p.args...)...)
	cmd.Env = p.env
	cmd.Stdin = bytes.NewReader(p.stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.ExtraFiles = []*os.File{w}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return 0, err
	}
	var out bytes.Buffer
	_, rerr := out.ReadFrom(r)
	if err := cmd.Wait(); err != nil {
		return 0, fmt.Errorf("%s (through the launcher): %v: %s", p.path, err, oneLine(stderr.String()))
	}
	if rerr != nil {
		return 0, rerr
	}
	if p.stdin != nil && password(stdout.Bytes()) == "" {
		return 0, fmt.Errorf("%s printed no password through the launcher (stderr: %s)", p.path, oneLine(stderr.String()))
	}
	return strconv.ParseInt(strings.TrimSpace(out.String()), 10, 64)
}
