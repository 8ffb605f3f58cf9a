package appauth

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/zalando/go-keyring"
)

func TestMain(m *testing.M) {
	// No test may touch the real OS keyring.
	keyring.MockInit()
	os.Exit(m.Run())
}

var (
	keyOnce            sync.Once
	testRSAKey         *rsa.PrivateKey
	otherRSAKey        *rsa.PrivateKey
	testKeyGenerateErr error
)

// testKey returns an RSA key shared by the package's tests (generated once).
func testKey(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	keyOnce.Do(func() {
		testRSAKey, testKeyGenerateErr = rsa.GenerateKey(rand.Reader, 2048)
		if testKeyGenerateErr == nil {
			otherRSAKey, testKeyGenerateErr = rsa.GenerateKey(rand.Reader, 2048)
		}
	})
	if testKeyGenerateErr != nil {
		tb.Fatal(testKeyGenerateErr)
	}
	return testRSAKey
}

// otherKey returns a second RSA key, not the app's.
func otherKey(tb testing.TB) *rsa.PrivateKey {
	testKey(tb)
	return otherRSAKey
}

func pemPKCS1(k *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

func pemPKCS8(tb testing.TB, k any) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// fakeClock is a settable clock for the Client's Now and Sleep.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// sleeper records the waits a Client asks for; with a clock it advances it instead of sleeping.
type sleeper struct {
	mu    sync.Mutex
	waits []time.Duration
	clock *fakeClock
}

func (s *sleeper) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	if s.clock != nil {
		s.clock.Advance(d)
	}
	return ctx.Err()
}

func (s *sleeper) Waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// seen is one request as the test server received it.
type seen struct {
	Method, Path, EscapedPath, RawQuery string
	Header                              http.Header
	Body                                []byte
}

// ghServer is a small GitHub stand-in over real TLS. Its handler decides every answer; it
// records requests and can check app JWTs the way GitHub does.
type ghServer struct {
	t      *testing.T
	srv    *httptest.Server
	pub    *rsa.PublicKey
	issuer string
	// clock is the server's time (Date header and JWT checks); nil means time.Now.
	clock func() time.Time

	mu       sync.Mutex
	requests []seen
	jwts     []string
	handler  func(w http.ResponseWriter, r *http.Request, n int)
}

func newGH(t *testing.T, handler func(w http.ResponseWriter, r *http.Request, n int)) *ghServer {
	t.Helper()
	g := &ghServer{t: t, pub: &testKey(t).PublicKey, issuer: "12345", handler: handler}
	g.srv = httptest.NewUnstartedServer(http.HandlerFunc(g.serve))
	g.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	g.srv.StartTLS()
	t.Cleanup(g.srv.Close)
	return g
}

func (g *ghServer) now() time.Time {
	if g.clock != nil {
		return g.clock()
	}
	return time.Now()
}

func (g *ghServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	g.mu.Lock()
	g.requests = append(g.requests, seen{r.Method, r.URL.Path, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), body})
	if a, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && strings.Count(a, ".") == 2 && strings.HasPrefix(a, "eyJ") {
		g.jwts = append(g.jwts, a)
	}
	n := len(g.requests)
	g.mu.Unlock()
	w.Header().Set("Date", g.now().UTC().Format(http.TimeFormat))
	g.handler(w, r, n)
}

func (g *ghServer) Requests() []seen {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]seen(nil), g.requests...)
}

func (g *ghServer) Hits() int { return len(g.Requests()) }

func (g *ghServer) JWTs() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.jwts...)
}

// checkJWT verifies the request's app JWT as GitHub would: RS256 signature with the app's public
// key, iss, iat not in the future, exp in the future and at most 10 minutes ahead. It returns
// GitHub's kind of 401 message, or "" when the JWT is good.
func (g *ghServer) checkJWT(r *http.Request) string {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return "A JSON web token could not be decoded"
	}
	var claims jwt.RegisteredClaims
	tok, err := jwt.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return g.pub, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	if err != nil || !tok.Valid {
		return "A JSON web token could not be decoded"
	}
	if claims.Issuer != g.issuer {
		return "Integration not found"
	}
	now := g.now()
	if claims.ExpiresAt == nil || !claims.ExpiresAt.After(now) {
		return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
	}
	if claims.IssuedAt == nil || claims.IssuedAt.After(now) {
		return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
	}
	if claims.ExpiresAt.Sub(now) > 10*time.Minute || claims.ExpiresAt.Sub(claims.IssuedAt.Time) > 10*time.Minute {
		return "'Expiration time' claim ('exp') is too far in the future"
	}
	return ""
}

// appOK answers a request for an app endpoint: 401 with GitHub's message for a bad JWT, else it
// returns true.
func (g *ghServer) appOK(w http.ResponseWriter, r *http.Request) bool {
	if msg := g.checkJWT(r); msg != "" {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest"})
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeMessage(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest"})
}

var testApp = map[string]any{
	"id": 12345, "slug": "my-app", "name": "My App", "client_id": "Iv1.abcdef",
	"html_url":    "https://github.com/apps/my-app",
	"owner":       map[string]any{"login": "acme", "id": 7, "type": "Organization"},
	"permissions": map[string]string{"contents": "write", "metadata": "read"},
}

func installationJSONFor(id int64, login string) map[string]any {
	return map[string]any{
		"id": id, "account": map[string]any{"login": login, "id": id * 10, "type": "Organization"},
		"repository_selection": "selected", "app_id": 12345, "app_slug": "my-app", "target_type": "Organization",
		"permissions": map[string]string{"contents": "read"},
		"html_url":    fmt.Sprintf("https://github.com/organizations/%s/settings/installations/%d", login, id),
	}
}

// client returns a Client for g's server that trusts its certificate, does not reuse
// connections (so the transport never retries on its own and hits are exact), records sleeps,
// and uses clk for Now when given.
func (g *ghServer) client(clk *fakeClock) (*Client, *sleeper) {
	tr := g.srv.Client().Transport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true
	s := &sleeper{clock: clk}
	c := &Client{
		BaseURL: g.srv.URL,
		HTTP:    &http.Client{Transport: tr, Timeout: 10 * time.Second},
		Issuer:  "12345",
		Key:     func() (crypto.Signer, error) { return testKey(g.t), nil },
		Sleep:   s.Sleep,
	}
	if clk != nil {
		c.Now = clk.Now
	}
	return c, s
}

// dropConnection closes the request's connection without an answer; with reset it sends a TCP
// RST instead of a FIN.
func dropConnection(t *testing.T, w http.ResponseWriter, reset bool) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	if reset {
		if tc, ok := conn.(*tls.Conn); ok {
			if tcp, ok := tc.NetConn().(interface{ SetLinger(int) error }); ok {
				_ = tcp.SetLinger(0)
			}
			_ = tc.NetConn().Close()
			return
		}
	}
	_ = conn.Close()
}
