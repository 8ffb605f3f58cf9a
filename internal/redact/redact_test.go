package redact

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
)

func testPEM(t *testing.T) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}

// Secrets removes every kind of secret the program handles, wherever it stands in a line, and
// leaves the rest of the line as it was.
func TestSecrets(t *testing.T) {
	key := testPEM(t)
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIn0.c2lnbmF0dXJlLWJ5dGVz"
	tok := "ghs_" + strings.Repeat("A1b2", 9)
	for in, want := range map[string]string{
		"open " + strings.TrimSpace(key) + ": no such file": "open [redacted key]: no such file",
		"Authorization: Bearer " + jwt:                      "Authorization: Bearer [redacted]",
		"token=" + tok + " rejected":                        "token=[redacted token] rejected",
		"jwt " + jwt + " end":                               "jwt [redacted JWT] end",
		"nothing secret here":                               "nothing secret here",
	} {
		if got := Secrets(in); got != want {
			t.Errorf("Secrets(%.40q...) = %q, want %q", in, got, want)
		}
	}
}

// A key (or token) where a path or name belongs is recognised, in every form a user can paste;
// paths, including Windows paths with a literal \n, are not.
func TestLooksLikeKey(t *testing.T) {
	key := testPEM(t)
	body := strings.Join(strings.Split(key, "\n")[1:len(strings.Split(key, "\n"))-2], "")
	for _, s := range []string{key, strings.ReplaceAll(key, "\n", `\n`), body, "ghs_" + strings.Repeat("x", 36)} {
		if !LooksLikeKey(s) {
			t.Errorf("LooksLikeKey(%.30q...) = false", s)
		}
	}
	for _, s := range []string{"/home/me/.config/git-credential-ghapp/123.pem", `C:\new\app.pem`, "acme.ghe.com", ""} {
		if LooksLikeKey(s) {
			t.Errorf("LooksLikeKey(%q) = true", s)
		}
	}
}

// Shown quotes what a user gave, but never a secret, and never a URL's password.
func TestShown(t *testing.T) {
	key := testPEM(t)
	for in, want := range map[string]string{
		"acme.example":                     `"acme.example"`,
		"https://me:hunter2@ghe.example/x": `"https://me:xxxxx@ghe.example/x"`,
		"https://me:hun%zz@ghe.example/":   `"https://xxxxx@ghe.example/"`,
		key:                                "(a value that looks like a private key or a token: not shown)",
		strings.Repeat("a", 150):           `"` + strings.Repeat("a", 100) + `..."`,
	} {
		if got := Shown(in); got != want {
			t.Errorf("Shown(%.40q...) = %s, want %s", in, got, want)
		}
	}
}
