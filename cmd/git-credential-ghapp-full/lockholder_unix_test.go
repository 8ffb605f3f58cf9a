//go:build unix

package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdStoppedHolder is the scenario command `stoppedholder GLOB`: a real process (util-linux's
// flock) takes the flock of the one file GLOB matches, as a git-credential-ghapp that is minting
// holds a cache lock, and is then stopped with SIGSTOP, as a suspended job would be. It and its
// child are killed when the scenario ends.
func cmdStoppedHolder(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: stoppedholder GLOB")
	}
	files, err := filepath.Glob(ts.MkAbs(args[0]))
	if err != nil || len(files) != 1 {
		ts.Fatalf("stoppedholder: %s matches %d files, want 1 (%v)", args[0], len(files), err)
	}
	flock, err := exec.LookPath("flock")
	if err != nil {
		ts.Fatalf("stoppedholder needs flock (Debian's util-linux): %v", err)
	}
	// flock prints once it holds the lock; sh then stops itself, and flock waits for it.
	cmd := exec.Command(flock, "--exclusive", files[0], "sh", "-c", "echo held; kill -STOP $$")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		ts.Fatalf("stoppedholder: %v", err)
	}
	if err := cmd.Start(); err != nil {
		ts.Fatalf("stoppedholder: %v", err)
	}
	ts.Defer(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "held\n" {
		ts.Fatalf("stoppedholder: flock said %q, %v", line, err)
	}
	// The holder's whole process group stops: flock itself too.
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGSTOP); err != nil {
		ts.Fatalf("stoppedholder: %v", err)
	}
}
