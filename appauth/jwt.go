package appauth

import (
	"crypto/rsa"
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
	// Key is the app's RSA private key.
	Key *rsa.PrivateKey
}

// Sign returns an RS256 JWT with iat = now-60s, exp = now+9m (a 10-minute span, GitHub's maximum)
// and iss = Issuer. now should be GitHub's time (local time plus a known clock offset). It fails
// when Issuer or Key is missing or signing fails; the error never contains key material.
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
	signed, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(s.Key)
	if err != nil {
		return "", fmt.Errorf("cannot sign the app JWT with the private key: %v", err)
	}
	return signed, nil
}
