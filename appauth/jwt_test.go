package appauth

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestSignerClaims(t *testing.T) {
	key := testKey(t)
	now := time.Date(2030, 1, 2, 3, 4, 5, 700_000_000, time.UTC)
	for _, iss := range []string{"12345", "Iv1.0123456789abcdef"} {
		signed, err := Signer{Issuer: iss, Key: key}.Sign(now)
		if err != nil {
			t.Fatal(err)
		}
		var claims jwt.RegisteredClaims
		tok, err := jwt.ParseWithClaims(signed, &claims, func(*jwt.Token) (any, error) { return &key.PublicKey, nil },
			jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(func() time.Time { return now }),
			jwt.WithIssuedAt(), jwt.WithExpirationRequired(), jwt.WithIssuer(iss))
		if err != nil || !tok.Valid {
			t.Fatalf("the JWT does not verify: %v", err)
		}
		if tok.Header["alg"] != "RS256" || tok.Header["typ"] != "JWT" {
			t.Errorf("header = %v", tok.Header)
		}
		base := now.Truncate(time.Second)
		if !claims.IssuedAt.Equal(base.Add(-60*time.Second)) || !claims.ExpiresAt.Equal(base.Add(9*time.Minute)) {
			t.Errorf("iat = %v, exp = %v; want now-60s and now+9m", claims.IssuedAt, claims.ExpiresAt)
		}
		if span := claims.ExpiresAt.Sub(claims.IssuedAt.Time); span != 10*time.Minute {
			t.Errorf("exp - iat = %v, want 10m", span)
		}
		// iss is a JSON string (also for a numeric App ID) and the times are integers.
		payload, err := base64.RawURLEncoding.DecodeString(strings.Split(signed, ".")[1])
		if err != nil {
			t.Fatal(err)
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(payload, &raw); err != nil {
			t.Fatal(err)
		}
		if string(raw["iss"]) != `"`+iss+`"` || strings.ContainsAny(string(raw["iat"])+string(raw["exp"]), ".e") {
			t.Errorf("payload = %s", payload)
		}
	}
}

func TestSignerErrors(t *testing.T) {
	if _, err := (Signer{Key: testKey(t)}).Sign(time.Now()); err == nil || !strings.Contains(err.Error(), "--app-id") {
		t.Errorf("no issuer: err = %v", err)
	}
	if _, err := (Signer{Issuer: "1"}).Sign(time.Now()); err == nil || !strings.Contains(err.Error(), "no private key") {
		t.Errorf("no key: err = %v", err)
	}
}

func BenchmarkSign(b *testing.B) {
	s := Signer{Issuer: "12345", Key: testKey(b)}
	now := time.Now()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Sign(now); err != nil {
			b.Fatal(err)
		}
	}
}

// messageOnly signs like an ssh-agent: it is handed the message and hashes it itself; its Sign
// (a digest) fails, as crypto.MessageSigner's documentation asks of such a signer.
type messageOnly struct {
	key  *rsa.PrivateKey
	msgs [][]byte
}

func (m *messageOnly) Public() crypto.PublicKey { return &m.key.PublicKey }
func (m *messageOnly) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("signs messages, not digests")
}
func (m *messageOnly) SignMessage(r io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	m.msgs = append(m.msgs, msg)
	sum := sha256.Sum256(msg)
	return rsa.SignPKCS1v15(r, m.key, opts.HashFunc(), sum[:])
}

// digestOnly is a key store that signs digests (a KMS); its errors reach the caller as they are.
type digestOnly struct {
	key     *rsa.PrivateKey
	digests [][]byte
	err     error
}

func (d *digestOnly) Public() crypto.PublicKey { return &d.key.PublicKey }
func (d *digestOnly) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if d.err != nil {
		return nil, d.err
	}
	d.digests = append(d.digests, digest)
	return rsa.SignPKCS1v15(r, d.key, opts.HashFunc(), digest)
}

// A signer that signs messages is handed the JWT's signing input; one that signs digests its
// SHA-256; either way the JWT verifies as RS256, and a key store's error is returned as is.
func TestSignerThroughKeyStores(t *testing.T) {
	key := testKey(t)
	now := time.Now()
	verify := func(signed string) string {
		t.Helper()
		if _, err := jwt.Parse(signed, func(*jwt.Token) (any, error) { return &key.PublicKey, nil }, jwt.WithValidMethods([]string{"RS256"})); err != nil {
			t.Fatalf("the JWT does not verify: %v", err)
		}
		return signed[:strings.LastIndex(signed, ".")]
	}
	m := &messageOnly{key: key}
	signed, err := Signer{Issuer: "1", Key: m}.Sign(now)
	if err != nil {
		t.Fatal(err)
	}
	if input := verify(signed); len(m.msgs) != 1 || string(m.msgs[0]) != input {
		t.Errorf("the message signer was handed %q, want the signing input %q", m.msgs, input)
	}
	d := &digestOnly{key: key}
	signed, err = Signer{Issuer: "1", Key: d}.Sign(now)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(verify(signed)))
	if len(d.digests) != 1 || string(d.digests[0]) != string(sum[:]) {
		t.Errorf("the digest signer was not handed the SHA-256 of the signing input")
	}
	d.err = errors.New("awskms: access denied to alias/ci-bot (kms:Sign): allow kms:GetPublicKey and kms:Sign on the key")
	if _, err := (Signer{Issuer: "1", Key: d}).Sign(now); err == nil || err.Error() != d.err.Error() {
		t.Errorf("a key store's error became %v", err)
	}
}
