// Package keystore opens the signer named by a --signer URI (GHAPP_SIGNER): a key held by a key
// store (a cloud KMS, Vault, an ssh-agent) that signs the app's JWT without letting the key out.
// It only dispatches on the URI's scheme; each backend is its own package under appauth/ and
// registers itself here in a file of its own (sshagent.go, awskms.go, ...).
//
// The contract every backend keeps: New(ctx, uri) takes the whole URI as the user wrote it and
// returns a crypto.Signer whose Public() is an *rsa.PublicKey and whose Sign(rand, digest, opts)
// takes opts.HashFunc() == crypto.SHA256 and a 32-byte digest and returns an RSASSA-PKCS1-v1_5
// signature. A key store that can only sign messages (an ssh-agent hashes what it signs) also
// implements the standard crypto.MessageSigner and makes Sign fail, as that interface's
// documentation asks; the JWT code (appauth.Signer) uses crypto.SignMessage, which prefers
// SignMessage when it is there. Errors are one line that names the backend and the fix. The
// context given to New bounds New only: a signer is opened with the request's deadline and used
// later, so each Sign sets a timeout of its own.
//
// A backend may leave the checks of its key (does it exist, may this identity use it, is it an
// RSA signing key) to the first signature, so that a mint pays the key store one round trip
// instead of two; it then implements Checker, and setup and doctor call Check to have them at
// once. A backend that checks in New needs nothing more.
package keystore

import (
	"context"
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Opener opens the signer a URI of its scheme names (a backend's New).
type Opener func(ctx context.Context, uri string) (crypto.Signer, error)

var backends = map[string]Opener{}

// register makes scheme (the part of a URI before its first ':') open with open. Each backend's
// file in this package calls it from init.
func register(scheme string, open Opener) {
	if _, dup := backends[scheme]; dup {
		panic("keystore: scheme " + scheme + " registered twice")
	}
	backends[scheme] = open
}

// Backends returns the schemes of the signer backends built in, sorted, e.g. ["awskms",
// "ssh-agent"].
func Backends() []string {
	names := make([]string, 0, len(backends))
	for s := range backends {
		names = append(names, s)
	}
	slices.Sort(names)
	return names
}

// Scheme returns the scheme of uri (the text before its first ':'), and false when uri has none
// that could be a scheme (a path, or a key pasted where a URI belongs).
func Scheme(uri string) (string, bool) {
	s, _, found := strings.Cut(uri, ":")
	if !found || s == "" || len(s) > 32 {
		return "", false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.') {
			return "", false
		}
	}
	return s, true
}

// Open returns the signer that uri names, opened by the backend of its scheme. It fails with one
// line: for a URI that is not one (the text is not repeated, since it may be a key pasted in the
// wrong place), for a scheme no backend handles (naming those that are built in), or with the
// backend's own error.
func Open(ctx context.Context, uri string) (crypto.Signer, error) {
	uri = strings.TrimSpace(uri)
	scheme, ok := Scheme(uri)
	if !ok {
		return nil, fmt.Errorf("--signer (GHAPP_SIGNER) is not a key store URI: write SCHEME:..., one of %s (e.g. awskms:///alias/NAME or ssh-agent:); for a key file use --key-file",
			strings.Join(Backends(), ", "))
	}
	open, ok := backends[scheme]
	if !ok {
		return nil, fmt.Errorf("--signer %s:...: no signer backend %q is built in; this build has %s", scheme, scheme, strings.Join(Backends(), ", "))
	}
	return open(ctx, uri)
}

// Checker is implemented by a signer whose New does not contact its key store (see the package
// documentation): Check fetches the public key and checks that the key can sign the app's JWT.
type Checker interface {
	Check(ctx context.Context) error
}

// Check checks that s can sign the app's JWT: it calls s's Check when s is a Checker, and then
// insists that its public key is RSA. Setup and doctor call it after Open; the mint path does not
// (the first signature finds the same problems).
func Check(ctx context.Context, s crypto.Signer) error {
	if c, ok := s.(Checker); ok {
		if err := c.Check(ctx); err != nil {
			return err
		}
	}
	switch pub := s.Public().(type) {
	case *rsa.PublicKey:
		return nil
	case nil:
		return errors.New("the signer has no public key")
	default:
		return fmt.Errorf("the signer's key is %T, not RSA; GitHub App keys are RSA", pub)
	}
}
