package appauth

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	// jwtBackdate is how far in the past iat is set, as GitHub recommends against clock drift.
	jwtBackdate = 60 * time.Second
	// jwtLifetime is how far after now exp is set; GitHub allows at most 10 minutes after iat.
	jwtLifetime = 9 * time.Minute
)

// Signer signs the JWT that authenticates requests as the GitHub App itself.
type Signer struct {
	// Issuer is the App ID or the Client ID; it becomes the iss claim as a string.
	Issuer string
	// Key holds the app's RSA private key: a local *rsa.PrivateKey, or a key store's signer (see
	// package keystore). Sign does not call its Public (a key store may have to ask for it). When
	// it also implements
	// crypto.MessageSigner (as an ssh-agent, which hashes the message itself, does), it is handed
	// the JWT's signing input; otherwise it is handed the input's SHA-256 digest.
	Key crypto.Signer
}

// Sign returns an RS256 JWT (RSASSA-PKCS1-v1_5 over SHA-256) with iat = now-60s, exp = now+9m
// (a 10-minute span, GitHub's maximum) and iss = Issuer. now should be GitHub's time (local time
// plus a known clock offset). It fails when Issuer or Key is missing, or when the key's signer
// fails (its error is kept, so a key store's one-line explanation reaches the
// user); the error never contains key material.
func (s Signer) Sign(now time.Time) (string, error) {
	if s.Issuer == "" {
		return "", errors.New("cannot sign the app JWT: no App ID or Client ID (pass --app-id)")
	}
	if s.Key == nil {
		return "", errors.New("cannot sign the app JWT: no private key")
	}
	claims := jwt.RegisteredClaims{
		Issuer:    s.Issuer,
		IssuedAt:  jwt.NewNumericDate(now.Add(-jwtBackdate)),
		ExpiresAt: jwt.NewNumericDate(now.Add(jwtLifetime)),
	}
	input, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SigningString()
	if err != nil {
		return "", fmt.Errorf("cannot encode the app JWT: %v", err)
	}
	// crypto.SignMessage hands a crypto.MessageSigner the message and any other signer the digest.
	sig, err := crypto.SignMessage(s.Key, rand.Reader, []byte(input), crypto.SHA256)
	if err != nil {
		if _, local := s.Key.(*rsa.PrivateKey); local {
			return "", fmt.Errorf("cannot sign the app JWT with the private key: %v", err)
		}
		return "", err
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}
