//go:build ghapp_testkeyring

package main

import (
	"errors"

	"github.com/zalando/go-keyring"
)

// The tests build the installed pair with the tag ghapp_testkeyring: the full helper they run
// then starts with an OS keyring that fails, as on a headless machine, so that no scenario
// touches the keyring of the machine it runs on (see keyring_test.go for the in-process tests).
func init() { keyring.MockInitWithError(errors.New("no OS keyring in tests")) }
