package azurekms

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/git-credential-ghapp/git-credential-ghapp/internal/fakekms"
)

// BenchmarkNew measures what a helper process pays before its first signature: the credential
// chain (a token request where there is one) and reading the public key, against the fake on
// loopback.
func BenchmarkNew(b *testing.B) {
	uri := benchStart(b)
	for b.Loop() {
		if _, err := New(context.Background(), uri); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSign measures one signature round trip to the fake on loopback.
func BenchmarkSign(b *testing.B) {
	s, err := New(context.Background(), benchStart(b))
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

func benchStart(b *testing.B) string {
	a, uri, env, err := fakekms.StartAzure(benchKey(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(a.Close)
	setEnvB(b, env)
	return uri
}

func benchKey(b *testing.B) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	return k
}

func setEnvB(b *testing.B, env []string) {
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if k != "SSL_CERT_DIR" {
			b.Setenv(k, v)
		}
	}
}
