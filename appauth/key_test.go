package appauth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestParsePrivateKeyAccepts(t *testing.T) {
	key := testKey(t)
	pkcs1 := string(pemPKCS1(key))
	pkcs8 := string(pemPKCS8(t, key))
	der := x509.MarshalPKCS1PrivateKey(key)
	b64 := base64.StdEncoding.EncodeToString([]byte(pkcs1))
	var wrapped strings.Builder // base64 -w 76 style
	for i := 0; i < len(b64); i += 76 {
		wrapped.WriteString(b64[i:min(i+76, len(b64))] + "\n")
	}
	block, _ := pem.Decode([]byte(pkcs1))
	oneLineBody := base64.StdEncoding.EncodeToString(block.Bytes)

	cases := map[string]string{
		"PKCS#1":                  pkcs1,
		"PKCS#8":                  pkcs8,
		"escaped newlines":        strings.ReplaceAll(pkcs1, "\n", `\n`),
		"escaped CRLF":            strings.ReplaceAll(pkcs1, "\n", `\r\n`),
		"base64 of PEM":           b64,
		"base64 of PEM, wrapped":  wrapped.String(),
		"base64url of PEM":        base64.RawURLEncoding.EncodeToString([]byte(pkcs8)),
		"base64 of DER":           base64.StdEncoding.EncodeToString(der),
		"CRLF":                    strings.ReplaceAll(pkcs1, "\n", "\r\n"),
		"whitespace around":       "\n\n  \t" + pkcs1 + "\n\n   ",
		"BOM":                     "\ufeff" + pkcs1,
		"quoted":                  `"` + strings.ReplaceAll(pkcs1, "\n", `\n`) + `"`,
		"one line with spaces":    "-----BEGIN RSA PRIVATE KEY----- " + oneLineBody + " -----END RSA PRIVATE KEY-----",
		"bag attributes preamble": "Bag Attributes\n    localKeyID: 01 02 03\nKey Attributes: <No Attributes>\n" + pkcs8,
		"certificate first":       "-----BEGIN CERTIFICATE-----\nMIIBAA==\n-----END CERTIFICATE-----\n" + pkcs1,
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParsePrivateKey([]byte(in))
			if err != nil {
				t.Fatalf("ParsePrivateKey: %v", err)
			}
			if !got.Equal(key) {
				t.Fatal("ParsePrivateKey returned a different key")
			}
		})
	}
}

func TestParsePrivateKeyRejects(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&testKey(t).PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := string(pemPKCS1(testKey(t)))
	lines := strings.Split(pkcs1, "\n")
	damaged := strings.Join(append(append([]string{}, lines[:3]...), lines[len(lines)-2:]...), "\n") // body cut short
	encrypted := string(pem.EncodeToMemory(&pem.Block{
		Type:    "RSA PRIVATE KEY",
		Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00112233445566778899AABBCCDDEEFF"},
		Bytes:   []byte("0123456789abcdef0123456789abcdef"),
	}))

	cases := []struct {
		name, in, want string
	}{
		{"empty", "  \n ", "the private key is empty"},
		{"garbage", "this is not a key at all!", "the private key is not PEM"},
		{"begin without end", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n", "the private key is not PEM"},
		{"damaged body", damaged, "the private key is damaged"},
		{"EC SEC1", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER})), "the private key is EC; GitHub App keys are RSA"},
		{"EC PKCS#8", string(pemPKCS8(t, ecKey)), "the private key is EC; GitHub App keys are RSA"},
		{"EC base64 DER", base64.StdEncoding.EncodeToString(ecDER), "the private key is EC; GitHub App keys are RSA"},
		{"Ed25519", string(pemPKCS8(t, edKey)), "the private key is Ed25519; GitHub App keys are RSA"},
		{"encrypted PKCS#1", encrypted, "encrypted with a passphrase, which is not supported"},
		{"encrypted PKCS#8", string(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte("xxxxxxxxxxxxxxxx")})), "encrypted with a passphrase, which is not supported"},
		{"public key", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})), "the PEM holds PUBLIC KEY, not an RSA private key"},
		{"OpenSSH", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ==\n-----END OPENSSH PRIVATE KEY-----\n", "OpenSSH format"},
		{"base64 of garbage", base64.StdEncoding.EncodeToString([]byte("hello, this is not DER")), "the private key is not PEM"},
		{"base64 of damaged DER", base64.StdEncoding.EncodeToString([]byte{0x30, 0x03, 0x02, 0x01, 0x00}), "the private key is damaged"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParsePrivateKey([]byte(tc.in))
			if err == nil {
				t.Fatalf("ParsePrivateKey accepted it (key %v)", k != nil)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
			assertNoKeyMaterial(t, err.Error(), tc.in)
		})
	}
}

// assertNoKeyMaterial fails when msg contains any base64 line (or long piece) of input.
func assertNoKeyMaterial(t *testing.T, msg, input string) {
	t.Helper()
	for _, line := range strings.Split(strings.ReplaceAll(input, `\n`, "\n"), "\n") {
		line = strings.TrimSpace(line)
		if len(line) < 16 || strings.HasPrefix(line, "-----") || strings.Contains(line, ":") || strings.Contains(line, " ") {
			continue
		}
		for i := 0; i+16 <= len(line); i += 8 {
			if strings.Contains(msg, line[i:i+16]) {
				t.Fatalf("error text contains key material: %q", msg)
			}
		}
	}
}

func TestKeySourceLoad(t *testing.T) {
	key := testKey(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "app.pem")
	if err := os.WriteFile(good, pemPKCS1(key), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(bad, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	envKey := strings.ReplaceAll(string(pemPKCS8(t, key)), "\n", `\n`)
	if err := KeyringSet("777", pemPKCS1(key)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = KeyringDelete("777") })

	t.Run("file", func(t *testing.T) {
		k, where, err := KeySource{File: good, Env: "garbage", AppID: "777", Keyring: true}.Load()
		if err != nil || !k.Equal(key) || where != "file "+good {
			t.Fatalf("Load = %v, %q, %v; want the key from %q", k != nil, where, err, "file "+good)
		}
	})
	t.Run("home", func(t *testing.T) {
		t.Setenv("HOME", dir)
		t.Setenv("USERPROFILE", dir)
		k, where, err := KeySource{File: "~/app.pem"}.Load()
		if err != nil || !k.Equal(key) || where != "file "+good {
			t.Fatalf("Load = %v, %q, %v", k != nil, where, err)
		}
	})
	t.Run("env", func(t *testing.T) {
		k, where, err := KeySource{Env: envKey, AppID: "777", Keyring: true}.Load()
		if err != nil || !k.Equal(key) || where != "GHAPP_PRIVATE_KEY" {
			t.Fatalf("Load = %v, %q, %v", k != nil, where, err)
		}
	})
	t.Run("keyring", func(t *testing.T) {
		k, where, err := KeySource{AppID: "777", Keyring: true}.Load()
		if err != nil || !k.Equal(key) || where != "OS keyring" {
			t.Fatalf("Load = %v, %q, %v", k != nil, where, err)
		}
	})
	t.Run("keyring not allowed", func(t *testing.T) {
		_, _, err := KeySource{AppID: "777"}.Load()
		if err == nil || !strings.Contains(err.Error(), "--key-file") || !strings.Contains(err.Error(), "git-credential-ghapp setup") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		missing := filepath.Join(dir, "nope.pem")
		_, _, err := KeySource{File: missing, Env: envKey}.Load()
		if err == nil || !strings.Contains(err.Error(), "cannot read the private key") || !strings.Contains(err.Error(), missing) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("bad file", func(t *testing.T) {
		_, _, err := KeySource{File: bad, Env: envKey}.Load()
		if err == nil || !strings.HasPrefix(err.Error(), "file "+bad+": the private key is not PEM") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("bad env", func(t *testing.T) {
		_, _, err := KeySource{Env: "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----"}.Load()
		if err == nil || !strings.HasPrefix(err.Error(), "GHAPP_PRIVATE_KEY: the private key is EC") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("nothing anywhere", func(t *testing.T) {
		_, _, err := KeySource{AppID: "888", Keyring: true}.Load()
		if err == nil {
			t.Fatal("Load succeeded with no key")
		}
		for _, want := range []string{"--key-file", "git-credential-ghapp setup", "OS keyring has none for app 888"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
		}
	})
	t.Run("bad key in keyring", func(t *testing.T) {
		if err := KeyringSet("999", []byte("garbage")); err != nil {
			t.Fatal(err)
		}
		defer KeyringDelete("999")
		_, where, err := KeySource{AppID: "999", Keyring: true}.Load()
		if err == nil || where != "OS keyring" || !strings.Contains(err.Error(), "not PEM") {
			t.Fatalf("Load = %q, %v", where, err)
		}
	})
}

func TestKeyFileWarning(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "k.pem")
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o600, 0o400, 0o640, 0o604, 0o620, 0o644} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		got := KeyFileWarning(path)
		wantWarning := runtime.GOOS != "windows" && mode&0o077 != 0
		if wantWarning {
			if !strings.Contains(got, path) || !strings.Contains(got, "chmod 600") || strings.Contains(got, "\n") {
				t.Errorf("mode %04o: warning %q", mode, got)
			}
		} else if got != "" {
			t.Errorf("mode %04o: unexpected warning %q", mode, got)
		}
	}
	if got := KeyFileWarning(filepath.Join(dir, "missing")); got != "" {
		t.Errorf("missing file: %q", got)
	}
}

func BenchmarkParsePrivateKey(b *testing.B) {
	data := pemPKCS1(testKey(b))
	b.ResetTimer()
	for b.Loop() {
		if _, err := ParsePrivateKey(data); err != nil {
			b.Fatal(err)
		}
	}
}
