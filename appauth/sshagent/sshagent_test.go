package sshagent_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth/sshagent"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/keystoretest"
)

var keys = sync.OnceValues(func() ([]*rsa.PrivateKey, error) {
	var ks []*rsa.PrivateKey
	for range 2 {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		ks = append(ks, k)
	}
	return ks, nil
})

func rsaKeys(t *testing.T) []*rsa.PrivateKey {
	ks, err := keys()
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// writePEM writes a key as GitHub hands it out (PKCS#1 PEM), 0600, as ssh-add requires.
func writePEM(t *testing.T, name string, block *pem.Block) string {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func rsaPEM(t *testing.T, k *rsa.PrivateKey, name string) string {
	return writePEM(t, name, &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

func ecPEM(t *testing.T) string {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, "ec.pem", &pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
}

// The agent's only RSA key (an EC key beside it does not count) signs an RS256 signature that
// verifies with the app's public key: the message goes to the agent with the rsa-sha2-256 flag.
func TestOnlyRSAKeySignsRS256(t *testing.T) {
	k := rsaKeys(t)[0]
	sock := keystoretest.SSHAgent(t, ecPEM(t), rsaPEM(t, k, "app.pem"))
	t.Setenv("SSH_AUTH_SOCK", sock)
	s, err := sshagent.New(context.Background(), "ssh-agent:")
	if err != nil {
		t.Fatal(err)
	}
	if pub, ok := s.Public().(*rsa.PublicKey); !ok || !pub.Equal(&k.PublicKey) {
		t.Fatalf("Public() = %T, not the app's key", s.Public())
	}
	msg := []byte("eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIn0")
	sig, err := crypto.SignMessage(s, rand.Reader, msg, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(msg)
	if err := rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("the agent's signature is not RS256 with the app's key: %v", err)
	}
	// A digest cannot be signed by an agent; Sign says so instead of signing something else.
	if _, err := s.Sign(rand.Reader, sum[:], crypto.SHA256); err == nil || !strings.Contains(err.Error(), "signs messages, not digests") {
		t.Errorf("Sign(digest) = %v", err)
	}
	if _, err := crypto.SignMessage(s, rand.Reader, msg, crypto.SHA512); err == nil {
		t.Error("SignMessage with SHA-512 succeeded")
	}
}

// With several RSA keys, ssh-agent: names none: the error lists the fingerprints (as ssh-add -l
// -E sha256 prints them) and ssh-agent:SHA256:FP picks one.
func TestFingerprintPicksAKey(t *testing.T) {
	ks := rsaKeys(t)
	sock := keystoretest.SSHAgent(t, rsaPEM(t, ks[0], "a.pem"), rsaPEM(t, ks[1], "b.pem"))
	t.Setenv("SSH_AUTH_SOCK", sock)
	fps := keystoretest.Fingerprint(t, sock)
	if len(fps) != 2 {
		t.Fatalf("ssh-add -l: %v", fps)
	}
	_, err := sshagent.New(context.Background(), "ssh-agent:")
	if err == nil || !strings.Contains(err.Error(), "holds 2 RSA keys") || !strings.Contains(err.Error(), fps[0]) || !strings.Contains(err.Error(), fps[1]) {
		t.Fatalf("two keys, none named: err = %v", err)
	}
	s, err := sshagent.New(context.Background(), "ssh-agent:"+fps[1])
	if err != nil {
		t.Fatal(err)
	}
	if !s.Public().(*rsa.PublicKey).Equal(&ks[1].PublicKey) {
		t.Fatal("ssh-agent:" + fps[1] + " opened another key")
	}
	if s.(*sshagent.Signer).Fingerprint() != fps[1] {
		t.Errorf("Fingerprint() = %s, want %s", s.(*sshagent.Signer).Fingerprint(), fps[1])
	}
}

// Every way of not finding the key is one line that says what to do.
func TestErrors(t *testing.T) {
	ecOnly := keystoretest.SSHAgent(t, ecPEM(t))
	ecFP := keystoretest.Fingerprint(t, ecOnly)[0]
	for _, tc := range []struct {
		name, sock, uri, want string
	}{
		{"no SSH_AUTH_SOCK", "", "ssh-agent:", "SSH_AUTH_SOCK is not set"},
		{"no agent there", filepath.Join(t.TempDir(), "none"), "ssh-agent:", "cannot reach the agent"},
		{"no RSA key", ecOnly, "ssh-agent:", "holds no RSA key: ssh-add the app's .pem"},
		{"fingerprint of an EC key", ecOnly, "ssh-agent:" + ecFP, "not RSA"},
		{"unknown fingerprint", ecOnly, "ssh-agent:SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "holds no key SHA256:AAAA"},
		{"MD5 fingerprint", ecOnly, "ssh-agent:MD5:aa:bb", "ssh-agent:SHA256:FINGERPRINT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SSH_AUTH_SOCK", tc.sock)
			_, err := sshagent.New(context.Background(), tc.uri)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "ssh-agent: ") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line with %q", err, tc.want)
			}
		})
	}
}

// An RSA key smaller than any GitHub App key is refused by name, whether picked as the only one
// or by its fingerprint.
func TestSmallRSAKeyRefused(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	sock := keystoretest.SSHAgent(t, rsaPEM(t, small, "small.pem"))
	t.Setenv("SSH_AUTH_SOCK", sock)
	for _, uri := range []string{"ssh-agent:", "ssh-agent:" + keystoretest.Fingerprint(t, sock)[0]} {
		_, err := sshagent.New(context.Background(), uri)
		if err == nil || !strings.Contains(err.Error(), "is RSA of 1024 bits; GitHub App keys are 2048 bits") {
			t.Errorf("%s: err = %v", uri, err)
		}
	}
}

// A key removed from the agent after it was opened: signing fails with the agent's refusal.
func TestKeyRemovedAfterOpen(t *testing.T) {
	k := rsaKeys(t)[0]
	path := rsaPEM(t, k, "app.pem")
	sock := keystoretest.SSHAgent(t, path)
	t.Setenv("SSH_AUTH_SOCK", sock)
	s, err := sshagent.New(context.Background(), "ssh-agent:")
	if err != nil {
		t.Fatal(err)
	}
	keystoretest.SSHAdd(t, sock, "-D")
	_, err = crypto.SignMessage(s, rand.Reader, []byte("x"), crypto.SHA256)
	if err == nil || !strings.Contains(err.Error(), "refused to sign") {
		t.Fatalf("err = %v", err)
	}
}

// BenchmarkSignMessage is one rsa-sha2-256 signature by OpenSSH's ssh-agent over its socket.
func BenchmarkSignMessage(b *testing.B) {
	ks, err := keys()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	p := filepath.Join(dir, "app.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(ks[0])}), 0o600); err != nil {
		b.Fatal(err)
	}
	b.Setenv("SSH_AUTH_SOCK", keystoretest.SSHAgent(b, p))
	s, err := sshagent.New(context.Background(), "ssh-agent:")
	if err != nil {
		b.Fatal(err)
	}
	msg := []byte("header.claims")
	for b.Loop() {
		if _, err := crypto.SignMessage(s, rand.Reader, msg, crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
}
