package keystore

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"slices"
	"strings"
	"testing"
)

func TestBackendsBuiltIn(t *testing.T) {
	got := Backends()
	for _, want := range []string{"awskms", "azurekms", "gcpkms", "hashivault", "ssh-agent"} {
		if !slices.Contains(got, want) {
			t.Errorf("Backends() = %v, lacks %s", got, want)
		}
	}
	if !slices.IsSorted(got) {
		t.Errorf("Backends() = %v, not sorted", got)
	}
}

// A URI that is not one, or names no backend, is one line that says what to write; text that is
// not a URI (a key pasted in the wrong place) is never repeated.
func TestOpenErrors(t *testing.T) {
	pasted := "-----BEGIN RSA PRIVATE KEY-----\nMIIEsecret\n-----END RSA PRIVATE KEY-----"
	for _, tc := range []struct{ uri, want string }{
		{pasted, "is not a key store URI"},
		{"/home/me/app.pem", "for a key file use --key-file"},
		{"", "is not a key store URI"},
		{"pkcs11:token=x", `no signer backend "pkcs11" is built in; this build has awskms`},
	} {
		_, err := Open(context.Background(), tc.uri)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "secret") {
			t.Errorf("Open(%q) = %v, want one line with %q", tc.uri, err, tc.want)
		}
	}
}

func TestCheckInsistsOnRSA(t *testing.T) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(context.Background(), k); err == nil || !strings.Contains(err.Error(), "not RSA") {
		t.Errorf("Check(EC key) = %v", err)
	}
}
