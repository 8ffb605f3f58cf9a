package main

import (
	"errors"

	"github.com/zalando/go-keyring"
)

// errNoTestKeyring is what the OS keyring answers in this package's tests.
var errNoTestKeyring = errors.New("no OS keyring in tests")

// No test may touch the real OS keyring of the machine it runs on: every test, and every run of
// the test binary as git-credential-ghapp in a scenario (a new process, where this runs again),
// starts with a keyring that fails, as on a headless machine. Tests that want a working keyring
// install go-keyring's in-memory mock, which lives only as long as their process.
func init() { keyring.MockInitWithError(errNoTestKeyring) }
