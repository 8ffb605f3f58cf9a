package appauth

import (
	"encoding/base64"
	"encoding/json"
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
