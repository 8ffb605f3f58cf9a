package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"

	"github.com/git-credential-ghapp/git-credential-ghapp/cache"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/options"
)

// handsOverLocks: Windows starts the full helper as a child, which could not take a lock its
// parent holds; the front waits for other processes' locks without taking them.
const handsOverLocks = false

// handOver runs the full helper at path with the same arguments, environment and standard
// streams, the request already read (if any) first on its standard input, and exits with its
// exit code: Windows cannot replace a running process. It returns only when the helper cannot
// be started. held is always nil here (handsOverLocks), and options.HeldLockVar is removed.
func handOver(path string, argv []string, request []byte, held *cache.Held) error {
	os.Unsetenv(options.HeldLockVar)
	cmd := exec.Command(path, argv[1:]...)
	cmd.Stdin = os.Stdin
	if request != nil {
		cmd.Stdin = io.MultiReader(bytes.NewReader(request), os.Stdin)
	}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		os.Exit(exit.ExitCode())
	}
	if err != nil {
		return err
	}
	os.Exit(0)
	return nil
}
