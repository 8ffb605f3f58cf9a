// Package appauth authenticates to GitHub as a GitHub App: it loads the app's private key, signs
// the app JWT, finds installations and mints installation access tokens through the REST API.
//
// Nothing in this package puts a secret (the private key, a JWT or a token) into an error, a
// trace line or any other text it produces.
package appauth

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	redaction "github.com/git-credential-ghapp/git-credential-ghapp/internal/redact"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
)

// maxKeyFileBytes bounds how much of a key file is read; a PEM RSA key is a few KiB.
const maxKeyFileBytes = 1 << 20

// ParsePrivateKey parses a GitHub App private key. It accepts PEM PKCS#1 ("RSA PRIVATE KEY", as
// GitHub downloads it) and PEM PKCS#8 ("PRIVATE KEY") holding an RSA key, surrounded by any
// whitespace, with CRLF line ends, with its line breaks written as literal `\n` escapes (as CI
// secrets often hold it), or base64-encoded (the PEM, or the bare DER). Other text around the PEM
// block (such as "Bag Attributes" lines) is ignored.
//
// It fails with an error that starts with "the private key" and says what is wrong: not PEM,
// EC/Ed25519/OpenSSH rather than RSA, encrypted with a passphrase (not supported), a public key or
// a certificate instead of a private key, or damaged. The error never contains key bytes.
func ParsePrivateKey(data []byte) (*rsa.PrivateKey, error) {
	s := strings.TrimSpace(strings.TrimPrefix(string(data), "\ufeff"))
	s = trimMatchingQuotes(s)
	if s == "" {
		return nil, errors.New("the private key is empty")
	}
	if !strings.Contains(s, "-----BEGIN") {
		raw, ok := decodeBase64(s)
		switch {
		case ok && strings.Contains(string(raw), "-----BEGIN"):
			s = strings.TrimSpace(string(raw))
		case ok && len(raw) > 0 && raw[0] == 0x30: // an ASN.1 SEQUENCE: DER
			return parseDERKey(raw)
		default:
			return nil, errors.New(`the private key is not PEM: no "-----BEGIN" line, and not base64 of a key either ` +
				`(expected the .pem file GitHub downloads, its contents, or base64 of it)`)
		}
	}
	if strings.Contains(s, `\n`) {
		s = strings.ReplaceAll(s, `\r\n`, "\n")
		s = strings.ReplaceAll(s, `\n`, "\n")
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")

	blocks := pemBlocks(s)
	if len(blocks) == 0 {
		return nil, errors.New(`the private key is not PEM: it has a "-----BEGIN" line but no complete, readable ` +
			`PEM block (is the "-----END" line missing or the base64 between them damaged?)`)
	}
	var other []string
	for _, b := range blocks {
		switch b.Type {
		case "RSA PRIVATE KEY", "PRIVATE KEY":
			if isEncryptedPEM(b) {
				return nil, errEncryptedKey
			}
			return parseDERKey(b.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errEncryptedKey
		case "EC PRIVATE KEY":
			return nil, errors.New("the private key is EC; GitHub App keys are RSA (download a new key from the app's settings page)")
		case "OPENSSH PRIVATE KEY":
			return nil, errors.New("the private key is in OpenSSH format; GitHub App keys are RSA PEM files " +
				`("-----BEGIN RSA PRIVATE KEY-----") as downloaded from the app's settings page`)
		case "EC PARAMETERS":
			// OpenSSL writes this before an EC key; look at the next block.
		default:
			other = append(other, b.Type)
		}
	}
	return nil, fmt.Errorf("the private key is missing: the PEM holds %s, not an RSA private key", strings.Join(other, ", "))
}

var errEncryptedKey = errors.New("the private key is encrypted with a passphrase, which is not supported: " +
	"write an unencrypted copy (e.g. `openssl pkey -in KEY.pem -out PLAIN.pem`) and keep it private")

// parseDERKey parses a PKCS#1 or PKCS#8 DER private key and insists on RSA.
func parseDERKey(der []byte) (*rsa.PrivateKey, error) {
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		if _, ecErr := x509.ParseECPrivateKey(der); ecErr == nil {
			return nil, errors.New("the private key is EC; GitHub App keys are RSA (download a new key from the app's settings page)")
		}
		return nil, errors.New("the private key is damaged: its contents are neither a PKCS#1 nor a PKCS#8 private key")
	}
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey, *ecdh.PrivateKey:
		return nil, errors.New("the private key is EC; GitHub App keys are RSA (download a new key from the app's settings page)")
	case ed25519.PrivateKey:
		return nil, errors.New("the private key is Ed25519; GitHub App keys are RSA (download a new key from the app's settings page)")
	default:
		return nil, fmt.Errorf("the private key is a %T; GitHub App keys are RSA", k)
	}
}

// pemBlocks returns every PEM block in s. Blocks that encoding/pem cannot read because their line
// breaks were lost (a PEM pasted as one line with spaces) are rebuilt leniently.
func pemBlocks(s string) []*pem.Block {
	var blocks []*pem.Block
	rest := []byte(s)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		blocks = append(blocks, b)
	}
	if len(blocks) > 0 {
		return blocks
	}
	for _, m := range lenientPEM().FindAllStringSubmatch(s, -1) {
		if m[1] != m[3] {
			continue
		}
		body := m[2]
		b := &pem.Block{Type: m[1], Headers: map[string]string{}}
		if strings.Contains(body, "Proc-Type:") && strings.Contains(body, "ENCRYPTED") {
			b.Headers["Proc-Type"] = "4,ENCRYPTED"
			blocks = append(blocks, b)
			continue
		}
		der, ok := decodeBase64(body)
		if !ok {
			continue
		}
		b.Bytes = der
		blocks = append(blocks, b)
	}
	return blocks
}

var lenientPEM = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?s)-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END ([A-Z0-9 ]+)-----`)
})

func isEncryptedPEM(b *pem.Block) bool {
	return strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED")
}

// decodeBase64 decodes s in any of the four base64 alphabets, ignoring white space and literal
// `\n` escapes; ok is false when s is none of them.
func decodeBase64(s string) ([]byte, bool) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
	s = strings.ReplaceAll(s, `\n`, "")
	if s == "" {
		return nil, false
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) > 0 {
			return b, true
		}
	}
	return nil, false
}

func trimMatchingQuotes(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return strings.TrimSpace(s[1 : len(s)-1])
	}
	return s
}

// KeySource says where a GitHub App private key may be found. Load looks in File, else in Env,
// else (when Keyring is true) in the OS keyring under AppID.
type KeySource struct {
	// File is the path of a PEM key file (--key-file, GHAPP_PRIVATE_KEY_FILE). A leading "~/" is
	// the user's home directory.
	File string
	// Env is the contents of GHAPP_PRIVATE_KEY: the PEM itself, `\n`-escaped or base64.
	Env string
	// AppID is the App ID or Client ID; it names the keyring entry.
	AppID string
	// Keyring allows looking in the OS keyring when File and Env are empty.
	Keyring bool
}

// Load returns the private key and where it came from: "file PATH", "GHAPP_PRIVATE_KEY" or
// "OS keyring". It uses the first of File, Env and the keyring that is set; a key that is set but
// unreadable or invalid is an error (it does not fall through to the next source). With no key
// anywhere the error says to pass --key-file or run `git-credential-ghapp setup`. Errors never
// contain key bytes.
func (ks KeySource) Load() (*rsa.PrivateKey, string, error) {
	switch {
	case ks.File != "":
		if LooksLikeKey(ks.File) {
			return nil, "", ErrKeyInPath
		}
		path := expandHome(ks.File)
		where := "file " + path
		data, err := readKeyFile(path)
		if err != nil {
			return nil, where, err
		}
		k, err := ParsePrivateKey(data)
		if err != nil {
			return nil, where, fmt.Errorf("%s: %w", where, err)
		}
		return k, where, nil
	case strings.TrimSpace(ks.Env) != "":
		const where = "GHAPP_PRIVATE_KEY"
		k, err := ParsePrivateKey([]byte(ks.Env))
		if err != nil {
			return nil, where, fmt.Errorf("%s: %w", where, err)
		}
		return k, where, nil
	case ks.Keyring && ks.AppID != "":
		const where = "OS keyring"
		data, err := KeyringGet(ks.AppID)
		if errors.Is(err, ErrKeyNotInKeyring) {
			return nil, "", fmt.Errorf("%s (and the OS keyring has none for app %s)", noKeyMessage, ks.AppID)
		}
		if err != nil {
			return nil, "", fmt.Errorf("%s (the OS keyring could not be read: %w)", noKeyMessage, err)
		}
		k, err := ParsePrivateKey(data)
		if err != nil {
			return nil, where, fmt.Errorf("%s (app %s): %w; run `git-credential-ghapp setup` again", where, ks.AppID, err)
		}
		return k, where, nil
	}
	return nil, "", errors.New(noKeyMessage)
}

const noKeyMessage = "no private key for the GitHub App: pass --key-file PATH (or set GHAPP_PRIVATE_KEY_FILE " +
	"or GHAPP_PRIVATE_KEY), or run `git-credential-ghapp setup` to store it in the OS keyring"

// ErrKeyInPath is returned when the key file's path (--key-file, GHAPP_PRIVATE_KEY_FILE) holds
// the key itself. Its text never repeats the value.
var ErrKeyInPath = errors.New("--key-file (or GHAPP_PRIVATE_KEY_FILE) holds PEM text, not a path: put it in GHAPP_PRIVATE_KEY, " +
	"or save it to a file and pass that file's path")

// LooksLikeKey reports whether s, given where a path or a name belongs, looks like a private key
// (or a token, or a JWT) rather than a path; see redact.LooksLikeKey. Callers must then never
// print s.
func LooksLikeKey(s string) bool { return redaction.LooksLikeKey(s) }

func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, keyFileOpenError(path, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("the private key path %s is a directory: pass the .pem file itself (GitHub names it APP.DATE.private-key.pem)", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileBytes+1))
	if err != nil {
		if errors.Is(err, syscall.EISDIR) {
			return nil, fmt.Errorf("the private key path %s is a directory: pass the .pem file itself (GitHub names it APP.DATE.private-key.pem)", path)
		}
		return nil, fmt.Errorf("cannot read the private key file %s: %w", path, err)
	}
	if len(data) > maxKeyFileBytes {
		return nil, fmt.Errorf("the private key file %s is larger than 1 MiB; is it the right file?", path)
	}
	return data, nil
}

func expandHome(path string) string {
	if path == "~" || strings.HasPrefix(path, "~/") || (runtime.GOOS == "windows" && strings.HasPrefix(path, `~\`)) {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, path[1:])
		}
	}
	return path
}

// KeyFileWarning returns "" when the key file at path is private to its owner, and otherwise a
// one-line warning naming the path, its mode and the chmod that fixes it (any group or other
// permission bit set). It returns "" on Windows, where mode bits say nothing about access, and
// when the file cannot be inspected (reading it will report that).
func KeyFileWarning(path string) string {
	if runtime.GOOS == "windows" || path == "" {
		return ""
	}
	path = expandHome(path)
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	perm := fi.Mode().Perm()
	if perm&0o077 == 0 {
		return ""
	}
	return fmt.Sprintf("warning: the private key file %s can be read or changed by other users (mode %04o); run: chmod 600 %s",
		path, perm, path)
}

// keyFileOpenError explains why the key file cannot be opened: missing, or not readable by this
// user (then with the file's mode and owner, and the fix).
func keyFileOpenError(path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("cannot read the private key: %s does not exist; check --key-file (or GHAPP_PRIVATE_KEY_FILE) names the .pem you downloaded for the app", path)
	case errors.Is(err, fs.ErrPermission):
		fi, serr := os.Stat(path)
		if serr != nil {
			return fmt.Errorf("cannot read the private key file %s: permission denied (a directory on the way cannot be searched by this user?)", path)
		}
		return fmt.Errorf("cannot read the private key file %s: permission denied (mode %04o, %s); make it readable by the user git runs as, and by nobody else: chown that user and chmod 600 it",
			path, fi.Mode().Perm(), describeOwner(fi))
	}
	return fmt.Errorf("cannot read the private key file %s: %w", path, errors.Unwrap(err))
}
