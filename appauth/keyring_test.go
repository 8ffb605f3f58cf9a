package appauth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

func TestKeyringRoundTrip(t *testing.T) {
	keyring.MockInit()
	pem := pemPKCS1(testKey(t))
	if err := KeyringSet("42", pem); err != nil {
		t.Fatal(err)
	}
	got, err := KeyringGet("42")
	if err != nil || string(got) != string(pem) {
		t.Fatalf("KeyringGet = %d bytes, %v", len(got), err)
	}
	if err := KeyringDelete("42"); err != nil {
		t.Fatal(err)
	}
	_, err = KeyringGet("42")
	if !errors.Is(err, ErrKeyNotInKeyring) || !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("after delete KeyringGet err = %v", err)
	}
	if err := KeyringDelete("42"); !errors.Is(err, ErrKeyNotInKeyring) {
		t.Fatalf("second delete err = %v", err)
	}
	if _, err := KeyringGet(""); err == nil {
		t.Fatal("KeyringGet with no app id succeeded")
	}
	if err := KeyringSet("42", nil); err == nil {
		t.Fatal("KeyringSet of an empty key succeeded")
	}
}

func TestKeyringErrors(t *testing.T) {
	defer keyring.MockInit()
	keyring.MockInitWithError(errors.New("dbus: no session bus"))
	_, err := KeyringGet("42")
	if err == nil || errors.Is(err, ErrKeyNotInKeyring) || !strings.Contains(err.Error(), "dbus: no session bus") {
		t.Fatalf("KeyringGet err = %v", err)
	}
	_, _, err = KeySource{AppID: "42", Keyring: true}.Load()
	if err == nil || !strings.Contains(err.Error(), "--key-file") || !strings.Contains(err.Error(), "dbus: no session bus") {
		t.Fatalf("Load err = %v", err)
	}

	keyring.MockInitWithError(keyring.ErrSetDataTooBig)
	err = KeyringSet("42", pemPKCS1(testKey(t)))
	if err == nil || !strings.Contains(err.Error(), "too large for this OS keyring") || !strings.Contains(err.Error(), "--key-file") {
		t.Fatalf("KeyringSet err = %v", err)
	}
}

func TestKeyringTimeout(t *testing.T) {
	saved, savedTimeout := keyringBackend, keyringTimeout
	hang := make(chan struct{})
	t.Cleanup(func() {
		close(hang) // let the abandoned calls finish
		keyringBackend, keyringTimeout = saved, savedTimeout
	})
	keyringTimeout = 50 * time.Millisecond
	keyringBackend.get = func(service, user string) (string, error) { <-hang; return "", nil }
	keyringBackend.set = func(service, user, secret string) error { <-hang; return nil }
	keyringBackend.del = func(service, user string) error { <-hang; return nil }

	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, ErrKeyringTimeout) {
			t.Fatalf("%s: err = %v, want ErrKeyringTimeout", what, err)
		}
		if want := "the OS keyring did not answer within 50ms: unlock it or use --key-file"; !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: error %q does not contain %q", what, err, want)
		}
	}
	_, err := KeyringGet("42")
	check("get", err)
	if err.Error() != "the OS keyring did not answer within 50ms: unlock it or use --key-file" {
		t.Errorf("get: err = %q", err)
	}
	check("set", KeyringSet("42", []byte("x")))
	check("delete", KeyringDelete("42"))
	_, _, err = KeySource{AppID: "42", Keyring: true}.Load()
	check("load", err)
}
