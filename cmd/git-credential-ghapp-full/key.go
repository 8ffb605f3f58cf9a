package main

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth"
)

const keyUsage = `usage: git-credential-ghapp key import --app-id ID [--key-file PATH]
       git-credential-ghapp key remove --app-id ID

Manages the app's private key in the OS keyring (macOS Keychain, Windows Credential Manager,
the Secret Service on Linux) under service git-credential-ghapp, account ID, where the helper
looks when it is given no key. setup does this too; these commands touch nothing else.

  import   checks that the key (--key-file, or GHAPP_PRIVATE_KEY) is an RSA private key and
           stores it, replacing an earlier one; it fails when no OS keyring answers
  remove   deletes it from the OS keyring, and the 0600 copy setup keeps under the
           configuration directory when there is no keyring

Examples:
  git-credential-ghapp key import --app-id 123 --key-file ~/Downloads/my-app.private-key.pem
  git-credential-ghapp key remove --app-id 123
`

func runKey(_ context.Context, e *env, o *options, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) == 0 {
			e.errorf("key: say import or remove (see git-credential-ghapp key --help)")
			return exitUsage
		}
		fmt.Fprint(e.stdout, keyUsage)
		return exitOK
	}
	sub := args[0]
	if sub != "import" && sub != "remove" {
		e.errorf("key: unknown subcommand %s: use import or remove (see git-credential-ghapp key --help)", appauth.Shown(sub))
		return exitUsage
	}
	f := newFlags("key "+sub, keyUsage, true)
	operands, o, code, ok := f.parse(e, o, args[1:])
	if !ok {
		return code
	}
	if tooManyOperands(e, "key "+sub, operands, 0) {
		return exitUsage
	}
	if o.AppID == "" {
		e.errorf("key %s: %v", sub, errNoAppID)
		return exitUsage
	}
	if sub == "import" {
		return keyImport(e, o)
	}
	return keyRemove(e, o)
}

func keyImport(e *env, o *options) int {
	if o.KeyFile == "" && o.KeyPEM == "" {
		e.errorf("key import: no key: pass --key-file PATH (or set GHAPP_PRIVATE_KEY)")
		return exitUsage
	}
	key, from, err := appauth.KeySource{File: o.KeyFile, Env: o.KeyPEM, AppID: o.AppID}.Load()
	if err != nil {
		e.errorf("key import: %v", err)
		return exitFail
	}
	if err := appauth.KeyringSet(o.AppID, encodeKey(key)); err != nil {
		e.errorf("key import: %v; without an OS keyring, keep the key in a file only you can read and pass --key-file PATH "+
			"(or set GHAPP_PRIVATE_KEY), or run setup, which keeps such a copy for you", err)
		return exitFail
	}
	fmt.Fprintf(e.stdout, "stored the private key of app %s (from %s) in the OS keyring\n", o.AppID, from)
	return exitOK
}

func keyRemove(e *env, o *options) int {
	removed := false
	keyringErr := appauth.KeyringDelete(o.AppID)
	switch {
	case keyringErr == nil:
		fmt.Fprintf(e.stdout, "removed the private key of app %s from the OS keyring\n", o.AppID)
		removed = true
	case errors.Is(keyringErr, appauth.ErrKeyNotInKeyring):
		keyringErr = nil
	}
	path, err := keyCopyPath(e, o.AppID)
	if err == nil {
		err = os.Remove(path)
		switch {
		case err == nil:
			fmt.Fprintf(e.stdout, "removed %s\n", path)
			removed = true
		case errors.Is(err, fs.ErrNotExist):
			err = nil
		}
	}
	if err != nil {
		e.errorf("key remove: %v", err)
		return exitFail
	}
	if keyringErr != nil && !removed {
		copyNote := ""
		if path != "" {
			copyNote = ", and there is no copy in " + path
		}
		e.errorf("key remove: %v%s; if the key is in a keyring, unlock it (or start its service) and run this again, "+
			"or delete the entry %s/%s with the keyring's own tool", keyringErr, copyNote, appauth.KeyringService, o.AppID)
		return exitFail
	}
	if !removed {
		fmt.Fprintf(e.stdout, "no private key of app %s is stored: nothing to remove\n", o.AppID)
	}
	return exitOK
}

// encodeKey writes key as PEM PKCS#1, the form GitHub hands out, whatever form it was read in
// (PKCS#8, `\n`-escaped, base64): what setup and key import store.
func encodeKey(key *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
}

// keyCopyPath is where setup keeps a copy of the key when no OS keyring answers:
// $XDG_CONFIG_HOME/git-credential-ghapp/ID.pem (else the platform's configuration directory).
func keyCopyPath(e *env, appID string) (string, error) {
	if !safeFileName(appID) {
		return "", fmt.Errorf("the app id %s cannot name a file: use the numeric App ID or the Client ID", appauth.Shown(appID))
	}
	dir := e.getenv("XDG_CONFIG_HOME")
	if dir == "" || !filepath.IsAbs(dir) {
		var err error
		if dir, err = os.UserConfigDir(); err != nil {
			return "", fmt.Errorf("cannot find the configuration directory for the key: %v", err)
		}
	}
	return filepath.Join(dir, "git-credential-ghapp", appID+".pem"), nil
}

func safeFileName(s string) bool {
	if s == "" || len(s) > 100 || s == "." || s == ".." {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// writeKeyCopy stores data at path, readable by its owner alone (directory 0700, file 0600),
// replacing the file atomically. It reports false when the file already held exactly data
// (with the right modes), so that running setup again changes nothing.
func writeKeyCopy(path string, data []byte) (bool, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return false, err
	}
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm() == 0o600 {
			return false, nil
		}
	}
	tmp, err := os.CreateTemp(dir, ".key-*")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return false, err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Close(); err != nil {
		return false, err
	}
	return true, os.Rename(tmp.Name(), path)
}

// withKeyCopy returns o with the key file set to setup's copy of the app's key, when o names no
// key and that copy exists.
func withKeyCopy(e *env, o *options) (*options, bool) {
	if o.KeyFile != "" || o.KeyPEM != "" || o.AppID == "" {
		return nil, false
	}
	path, err := keyCopyPath(e, o.AppID)
	if err != nil {
		return nil, false
	}
	if _, err := os.Stat(path); err != nil {
		return nil, false
	}
	c := *o
	c.KeyFile = path
	return &c, true
}

// loadKey loads the key from what o names (file, environment, OS keyring) and, when o names no
// key and the keyring has none or does not answer, from the copy setup keeps where there is no
// keyring, so that the helper and `token` work after `setup` on a headless machine without
// repeating --key-file. It reports where the key came from.
func loadKey(e *env, o *options) (*rsa.PrivateKey, string, error) {
	key, from, err := appauth.KeySource{File: o.KeyFile, Env: o.KeyPEM, AppID: o.AppID, Keyring: o.AppID != ""}.Load()
	if err == nil {
		return key, from, nil
	}
	if c, ok := withKeyCopy(e, o); ok {
		if key, from, cerr := (appauth.KeySource{File: c.KeyFile}).Load(); cerr == nil {
			return key, from + " (kept by setup)", nil
		}
	}
	return nil, "", err
}
