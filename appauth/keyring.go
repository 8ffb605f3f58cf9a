package appauth

import (
	"errors"
	"fmt"
	"time"

	"github.com/zalando/go-keyring"
)

// KeyringService is the OS keyring service under which app private keys are stored; the account
// (user) is the app id given to --app-id.
const KeyringService = "git-credential-ghapp"

// ErrKeyNotInKeyring is returned (wrapped) when the OS keyring has no key for the app. It wraps
// keyring.ErrNotFound, so errors.Is works with either.
var ErrKeyNotInKeyring = fmt.Errorf("no private key in the OS keyring: %w", keyring.ErrNotFound)

// ErrKeyringTimeout is returned (wrapped) when the OS keyring does not answer in time, e.g. a
// locked keyring waiting for a password prompt or a D-Bus service that hangs.
var ErrKeyringTimeout = errors.New("the OS keyring did not answer in time")

// keyringTimeout bounds every keyring call; tests shorten it.
var keyringTimeout = 3 * time.Second

// keyringBackend holds the keyring calls so tests can replace them (for instance with one that
// never returns).
var keyringBackend = struct {
	get func(service, user string) (string, error)
	set func(service, user, secret string) error
	del func(service, user string) error
}{keyring.Get, keyring.Set, keyring.Delete}

// KeyringGet returns the private key stored for appID in the OS keyring. It fails with an error
// wrapping ErrKeyNotInKeyring when there is none, with one wrapping ErrKeyringTimeout ("the OS
// keyring did not answer within 3s: unlock it or use --key-file") when the keyring does not
// answer within the timeout, and otherwise with the keyring's own error. The call is abandoned,
// not cancelled, on timeout: the OS may still answer later, into the void.
func KeyringGet(appID string) ([]byte, error) {
	if appID == "" {
		return nil, errors.New("cannot look up the private key in the OS keyring: no app id")
	}
	get := keyringBackend.get
	secret, err := keyringCall(func() (string, error) { return get(KeyringService, appID) })
	if err != nil {
		return nil, keyringError("read the private key of app "+appID+" from", err)
	}
	return []byte(secret), nil
}

// KeyringSet stores pem as the private key of appID in the OS keyring, replacing any earlier one.
// It has the same timeout as KeyringGet. A key too large for the OS keyring (Windows allows about
// 2.5 KB, so 4096-bit keys do not fit) gives an error saying to keep it in a file.
func KeyringSet(appID string, pem []byte) error {
	if appID == "" {
		return errors.New("cannot store the private key in the OS keyring: no app id")
	}
	if len(pem) == 0 {
		return errors.New("cannot store an empty private key in the OS keyring")
	}
	set := keyringBackend.set
	_, err := keyringCall(func() (struct{}, error) {
		return struct{}{}, set(KeyringService, appID, string(pem))
	})
	if errors.Is(err, keyring.ErrSetDataTooBig) {
		return fmt.Errorf("the private key (%d bytes) is too large for this OS keyring: keep it in a 0600 file and pass --key-file", len(pem))
	}
	if err != nil {
		return keyringError("store the private key of app "+appID+" in", err)
	}
	return nil
}

// KeyringDelete removes the private key of appID from the OS keyring. It fails with an error
// wrapping ErrKeyNotInKeyring when there was none (callers that only want it gone may ignore
// that), and has the same timeout as KeyringGet.
func KeyringDelete(appID string) error {
	if appID == "" {
		return errors.New("cannot delete the private key from the OS keyring: no app id")
	}
	del := keyringBackend.del
	_, err := keyringCall(func() (struct{}, error) {
		return struct{}{}, del(KeyringService, appID)
	})
	if err != nil {
		return keyringError("delete the private key of app "+appID+" from", err)
	}
	return nil
}

// keyringCall runs f in a goroutine and gives up after keyringTimeout.
func keyringCall[T any](f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1) // buffered: an abandoned call must not leak a blocked goroutine
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	timer := time.NewTimer(keyringTimeout)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.v, r.err
	case <-timer.C:
		var zero T
		return zero, explain(ErrKeyringTimeout, "the OS keyring did not answer within %s: unlock it or use --key-file", keyringTimeout)
	}
}

func keyringError(what string, err error) error {
	switch {
	case errors.Is(err, keyring.ErrNotFound):
		return ErrKeyNotInKeyring
	case errors.Is(err, ErrKeyringTimeout):
		return err
	default:
		return fmt.Errorf("cannot %s the OS keyring: %w", what, err)
	}
}
