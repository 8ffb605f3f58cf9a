package fakekms

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// AppJWT builds a GitHub App JWT (RS256, iat = now-60s, exp = now+9m, iss) signed through s,
// for tests of signers that do not hold the key themselves.
func AppJWT(s crypto.Signer, iss string, now time.Time) (string, error) {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	claims, err := json.Marshal(map[string]any{"iss": iss, "iat": now.Add(-time.Minute).Unix(), "exp": now.Add(9 * time.Minute).Unix()})
	if err != nil {
		return "", err
	}
	signing := header + "." + enc.EncodeToString(claims)
	digest := sha256.Sum256([]byte(signing))
	sig, err := s.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return "", err
	}
	return signing + "." + enc.EncodeToString(sig), nil
}

// GetApp sends GET {apiURL}/app with the JWT, as GitHub's "Get the authenticated app" is called,
// and fails unless the answer is 200: the fake GitHub then accepted the JWT's signature.
func GetApp(client *http.Client, apiURL, jwt string) error {
	req, err := http.NewRequest(http.MethodGet, apiURL+"/app", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+jwt)
	req.Header.Set("Accept", "application/vnd.github+json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /app: HTTP %d", resp.StatusCode)
	}
	return nil
}
