// Package kmstest holds the test scaffolding the REST key-store signers (gcpkms, azurekms,
// hashivault) share: keys, environment, a store that never answers, the end-to-end check that a
// signer's JWT is accepted by the fake GitHub, the checks of Sign's refusals, and the
// benchmarks' loops. Each back-end's tests start their own fake and check their own messages.
package kmstest

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth/internal/kmsrest"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/fakegithub"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/fakekms"
)

// SetUpProcess is for a TestMain: it makes the fakes' CA trusted (SSL_CERT_DIR, which Go reads
// once per process) and points HOME at the CA's directory, so that no test reads the user's own
// files. It returns that directory, and exits the process when the CA cannot be made.
func SetUpProcess() string {
	dir, err := fakekms.CADir()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("SSL_CERT_DIR", dir)
	os.Setenv("HOME", dir)
	return dir
}

// NewFunc is a back-end's New.
type NewFunc func(ctx context.Context, uri string) (crypto.Signer, error)

// MustKey returns a fresh 2048-bit RSA key.
func MustKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// SetEnv sets KEY=VALUE pairs for the test, except SSL_CERT_DIR: Go reads that once per process,
// so the tests' TestMain sets it.
func SetEnv(t testing.TB, env []string) {
	t.Helper()
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if k != "SSL_CERT_DIR" {
			t.Setenv(k, v)
		}
	}
}

// ShortTimeout lowers the per-call limit for one test. Use it only against a store that never
// answers (HangingAddr), so that the outcome does not depend on the machine's speed.
func ShortTimeout(t testing.TB, d time.Duration) {
	old := kmsrest.CallTimeout
	kmsrest.CallTimeout = d
	t.Cleanup(func() { kmsrest.CallTimeout = old })
}

// HangingAddr returns the address of a listener that accepts connections and never answers
// (not even the TLS handshake), until the test ends.
func HangingAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().String()
}

// ClosedAddr returns a loopback address nothing listens on (a port just freed).
func ClosedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// GitHub starts the fake GitHub with one app, "kms-app", until the test ends.
func GitHub(t testing.TB) (*fakegithub.Server, *fakegithub.App) {
	t.Helper()
	gh, err := fakegithub.New(fakegithub.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gh.Close)
	return gh, gh.NewApp("kms-app")
}

// SignsAppJWT opens uri with newSigner, as the helper does, and checks that its public key is the
// app's and that the fake GitHub accepts a JWT it signed (GET /app, the real RS256 check). store
// names the key store in the failure message.
func SignsAppJWT(t testing.TB, gh *fakegithub.Server, app *fakegithub.App, uri string, newSigner NewFunc, store string) {
	t.Helper()
	// The helper opens the signer under its request deadline and cancels that once the signer is
	// open, before the mint signs: New's context bounds New only (keystore's contract).
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	s, err := newSigner(ctx, uri)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	if !s.Public().(*rsa.PublicKey).Equal(&app.Key.PublicKey) {
		t.Fatal("Public() is not the app's public key")
	}
	jwt, err := fakekms.AppJWT(s, fmt.Sprint(app.ID), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := fakekms.GetApp(gh.Client(), gh.APIURL, jwt); err != nil {
		t.Fatalf("GitHub refused the JWT signed in %s: %v", store, err)
	}
}

// RejectsOtherHashes checks that s refuses a SHA-384 digest, a SHA-256 digest of short bytes, and
// PSS. The caller checks that none of them reached the store.
func RejectsOtherHashes(t testing.TB, s crypto.Signer, short int) {
	t.Helper()
	d := make([]byte, 48)
	if _, err := s.Sign(nil, d, crypto.SHA384); err == nil {
		t.Error("SHA-384 accepted")
	}
	if _, err := s.Sign(nil, d[:short], crypto.SHA256); err == nil {
		t.Errorf("a %d-byte digest accepted", short)
	}
	if _, err := s.Sign(nil, d[:32], &rsa.PSSOptions{Hash: crypto.SHA256}); err == nil {
		t.Error("PSS accepted")
	}
}

// BenchNew measures what a helper process pays before its first signature: the credential chain
// (a token request where there is one) and reading the public key, against a fake on loopback.
func BenchNew(b *testing.B, uri string, newSigner NewFunc) {
	for b.Loop() {
		if _, err := newSigner(context.Background(), uri); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchSign measures one signature round trip to a fake on loopback.
func BenchSign(b *testing.B, uri string, newSigner NewFunc) {
	s, err := newSigner(context.Background(), uri)
	if err != nil {
		b.Fatal(err)
	}
	d := sha256.Sum256([]byte("header.payload"))
	for b.Loop() {
		if _, err := s.Sign(nil, d[:], crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
}
