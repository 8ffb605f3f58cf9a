package appauth

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// A value given where a path, name or URL belongs is quoted by Shown, but never a key, a
// token or a URL's password.
func TestShownHidesSecrets(t *testing.T) {
	pem := string(testPEM(t))
	tok := "ghs_" + strings.Repeat("A1b2", 9)
	for in, want := range map[string]string{
		"acme.example":                                         `"acme.example"`,
		"https://me:hunter2@ghe.example/x":                     `"https://me:xxxxx@ghe.example/x"`,
		"https://" + strings.Repeat("t", 60) + "@ghe.example/": `"https://xxxxx@ghe.example/"`,
		"https://me:hun%zz@ghe.example/":                       `"https://xxxxx@ghe.example/"`,
		pem:                                                    "(a value that looks like a private key or a token: not shown)",
		pem[:120]:                                              "(a value that looks like a private key or a token: not shown)",
		tok:                                                    "(a value that looks like a private key or a token: not shown)",
	} {
		if got := Shown(in); got != want {
			t.Errorf("Shown(%.40q...) = %s, want %s", in, got, want)
		}
	}
}

// --key-file "$(cat app.pem)": the error says what is wrong without a byte of the key, and so
// does the same mistake in base64 or with \n escapes.
func TestKeyInPathIsNotPrinted(t *testing.T) {
	pem := string(testPEM(t))
	for name, v := range map[string]string{
		"pem":      pem,
		"one line": strings.ReplaceAll(pem, "\n", `\n`),
		"base64":   b64(pem),
	} {
		_, _, err := KeySource{File: v}.Load()
		if !errors.Is(err, ErrKeyInPath) {
			t.Errorf("%s: err = %v, want ErrKeyInPath", name, err)
			continue
		}
		if !strings.Contains(err.Error(), "holds PEM text, not a path: put it in GHAPP_PRIVATE_KEY") {
			t.Errorf("%s: err = %v", name, err)
		}
		for _, line := range strings.Split(pem, "\n") {
			if len(line) > 20 && strings.Contains(err.Error(), line[5:20]) {
				t.Errorf("%s: the error holds key text", name)
			}
		}
	}
}

// A directory, an unreadable file: the error says which and what to do.
func TestKeyFileHints(t *testing.T) {
	dir := t.TempDir()
	_, _, err := KeySource{File: dir}.Load()
	if err == nil || !strings.Contains(err.Error(), "is a directory: pass the .pem file itself") {
		t.Errorf("directory: %v", err)
	}
	_, _, err = KeySource{File: filepath.Join(dir, "nope.pem")}.Load()
	if err == nil || !strings.Contains(err.Error(), "nope.pem does not exist") {
		t.Errorf("missing: %v", err)
	}
	// Root reads any file, so the refusal is made up; the file and its mode are real.
	p := filepath.Join(dir, "k.pem")
	if err := os.WriteFile(p, testPEM(t), 0o640); err != nil {
		t.Fatal(err)
	}
	err = keyFileOpenError(p, &os.PathError{Op: "open", Path: p, Err: os.ErrPermission})
	owner := "owned by "
	if runtime.GOOS == "windows" {
		owner = "check the file's permissions"
	}
	if err == nil || !strings.Contains(err.Error(), "k.pem: permission denied (mode 0640, "+owner) || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("unreadable: %v", err)
	}
}

// A name that does not exist in DNS is not retried: isPermanentNetError says so.
func TestNoSuchHostIsPermanent(t *testing.T) {
	if !isPermanentNetError(&net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "acme.invalid", IsNotFound: true}}) {
		t.Error("NXDOMAIN is retried")
	}
	if isPermanentNetError(&net.DNSError{Err: "i/o timeout", Name: "acme.example", IsTimeout: true}) {
		t.Error("a DNS timeout is not retried")
	}
}

func testPEM(t *testing.T) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(testKey(t))})
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// Paths are paths, Windows ones included.
func TestLooksLikeKeyLeavesPaths(t *testing.T) {
	for _, p := range []string{`C:\Users\nick\new\app.pem`, "/home/me/.config/git-credential-ghapp/123.pem", "~/Downloads/my-app.2026-11-25.private-key.pem"} {
		if LooksLikeKey(p) {
			t.Errorf("LooksLikeKey(%q) = true", p)
		}
	}
}
