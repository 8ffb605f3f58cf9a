package appauth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// TestRealKeyring stores, reads and deletes a key through the machine's real OS keyring (the
// Secret Service on Linux), which the mock-based tests cannot vouch for: D-Bus, the collection,
// the size of a real 2048-bit PEM. It runs only when asked, because it writes to the keyring of
// whoever runs it; CI runs it under dbus-run-session with a throwaway unlocked gnome-keyring.
func TestRealKeyring(t *testing.T) {
	if os.Getenv("GHAPP_TEST_REAL_KEYRING") != "1" {
		t.Skip("set GHAPP_TEST_REAL_KEYRING=1 under dbus-run-session with an unlocked gnome-keyring")
	}
	// An app id no real app has, unique to this run, so a real entry is never touched.
	appID := fmt.Sprintf("git-credential-ghapp-test-%d", time.Now().UnixNano())
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	key := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	t.Cleanup(func() { _ = keyring.Delete(KeyringService, appID) })

	if _, err := KeyringGet(appID); !errors.Is(err, ErrKeyNotInKeyring) {
		t.Fatalf("KeyringGet before Set: %v, want ErrKeyNotInKeyring", err)
	}
	if err := KeyringSet(appID, key); err != nil {
		t.Fatalf("KeyringSet: %v", err)
	}
	got, err := KeyringGet(appID)
	if err != nil {
		t.Fatalf("KeyringGet: %v", err)
	}
	if string(got) != string(key) {
		t.Fatalf("KeyringGet returned %d bytes, not the %d stored", len(got), len(key))
	}
	loaded, from, err := KeySource{AppID: appID, Keyring: true}.Load()
	if err != nil || from != "OS keyring" || !loaded.Equal(k) {
		t.Fatalf("Load from the keyring: from %q, err %v", from, err)
	}
	// Set replaces.
	if err := KeyringSet(appID, []byte("replaced")); err != nil {
		t.Fatalf("KeyringSet again: %v", err)
	}
	if got, err := KeyringGet(appID); err != nil || string(got) != "replaced" {
		t.Fatalf("after a second Set, KeyringGet = %q, %v", got, err)
	}
	if err := KeyringDelete(appID); err != nil {
		t.Fatalf("KeyringDelete: %v", err)
	}
	if _, err := KeyringGet(appID); !errors.Is(err, ErrKeyNotInKeyring) {
		t.Fatalf("KeyringGet after Delete: %v, want ErrKeyNotInKeyring", err)
	}
	if err := KeyringDelete(appID); !errors.Is(err, ErrKeyNotInKeyring) {
		t.Fatalf("second KeyringDelete: %v, want ErrKeyNotInKeyring", err)
	}
}
