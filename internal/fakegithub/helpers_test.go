package fakegithub

import (
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func newServer(t *testing.T) *Server {
	t.Helper()
	s, err := New(Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func signRS256(t *testing.T, key *rsa.PrivateKey, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// appJWT is a well-formed JWT for app by the given clock: iat 60 s in the
// past, exp 9 minutes ahead, iss the App ID as a string.
func appJWT(t *testing.T, app *App, now time.Time) string {
	t.Helper()
	return signRS256(t, app.Key, jwt.MapClaims{
		"iat": now.Unix() - 60,
		"exp": now.Unix() + 540,
		"iss": strconv.FormatInt(app.ID, 10),
	})
}

// result is a decoded answer.
type result struct {
	status int
	header http.Header
	body   []byte
}

func (r result) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

func (r result) message(t *testing.T) string {
	t.Helper()
	m := r.json(t)
	msg, _ := m["message"].(string)
	return msg
}

// call sends a REST request to s.APIURL+path with the given Authorization
// ("" for none) and body ("" for none).
func call(t *testing.T, s *Server, method, path, auth, body string) result {
	t.Helper()
	return callWith(t, s.Client(), s, method, path, auth, body)
}

func callWith(t *testing.T, c *http.Client, s *Server, method, path, auth, body string) result {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.APIURL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", "fakegithub-test")
	req.Header.Set("Accept", "application/vnd.github+json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: b}
}

func bearer(tok string) string { return "Bearer " + tok }

// mint asks for a token and fails the test unless it gets 201.
func mint(t *testing.T, s *Server, app *App, inst *Installation, body string) map[string]any {
	t.Helper()
	res := call(t, s, "POST", "/app/installations/"+strconv.FormatInt(inst.ID, 10)+"/access_tokens",
		bearer(appJWT(t, app, s.now())), body)
	if res.status != http.StatusCreated {
		t.Fatalf("mint %s: status %d: %s", body, res.status, res.body)
	}
	return res.json(t)
}

func mintToken(t *testing.T, s *Server, app *App, inst *Installation, body string) string {
	t.Helper()
	return mint(t, s, app, inst, body)["token"].(string)
}

func jsonArray(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("body is not a JSON array: %v: %s", err, b)
	}
	return out
}
