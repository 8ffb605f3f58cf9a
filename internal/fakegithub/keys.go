package fakegithub

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// An app has several private keys while one is rotated: GitHub lets an app hold more than one
// (up to 25) and accepts a JWT signed with any key not yet deleted; the usual rotation is to
// generate a new key, deploy it, then delete the old one (docs: "Managing private keys for GitHub
// Apps", "Rotating private keys").

// appKey is one of an app's keys beyond App.Key, or the record that App.Key was deleted.
type appKey struct {
	pub     *rsa.PublicKey
	deleted bool
}

// AddKey generates another private key for app and returns it as GitHub lets you download it
// (PKCS#1 PEM). JWTs signed with it are accepted from now on, alongside the app's other keys.
func (s *Server) AddKey(app *App) []byte {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(fmt.Sprintf("fakegithub: generating RSA key: %v", err))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.appKeys == nil {
		s.appKeys = map[*App][]appKey{}
	}
	s.appKeys[app] = append(s.appKeys[app], appKey{pub: &key.PublicKey})
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
}

// DeleteKey deletes the app's key whose PEM (as NewApp or AddKey gave it) is keyPEM: JWTs signed
// with it are refused from now on, as GitHub refuses them ("A JSON web token could not be
// decoded"). It reports whether the key was one of the app's.
func (s *Server) DeleteKey(app *App, keyPEM []byte) bool {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return false
	}
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.appKeys == nil {
		s.appKeys = map[*App][]appKey{}
	}
	if app.Key.PublicKey.Equal(&key.PublicKey) {
		s.appKeys[app] = append(s.appKeys[app], appKey{pub: &app.Key.PublicKey, deleted: true})
		return true
	}
	for i, k := range s.appKeys[app] {
		if k.pub.Equal(&key.PublicKey) {
			s.appKeys[app][i].deleted = true
			return true
		}
	}
	return false
}

// verificationKeys returns the public keys a JWT of app may be signed with: App.Key unless it
// was deleted, and every added key not deleted.
func (s *Server) verificationKeys(app *App) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	extra := s.appKeys[app]
	if len(extra) == 0 {
		return &app.Key.PublicKey
	}
	var set jwt.VerificationKeySet
	originalDeleted := false
	for _, k := range extra {
		if k.deleted && k.pub.Equal(&app.Key.PublicKey) {
			originalDeleted = true
		}
	}
	if !originalDeleted {
		set.Keys = append(set.Keys, &app.Key.PublicKey)
	}
	for _, k := range extra {
		if !k.deleted {
			set.Keys = append(set.Keys, k.pub)
		}
	}
	if len(set.Keys) == 0 {
		return nil // every key deleted: nothing verifies
	}
	return set
}
