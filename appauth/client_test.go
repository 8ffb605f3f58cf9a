package appauth

import (
	"context"
	"crypto"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestAPIBaseURL(t *testing.T) {
	cases := map[string]string{
		"github.com":               "https://api.github.com",
		"GitHub.COM":               "https://api.github.com",
		"github.com:443":           "https://api.github.com",
		"acme.ghe.com":             "https://api.acme.ghe.com",
		"ACME.GHE.com":             "https://api.acme.ghe.com",
		"github.example.com":       "https://github.example.com/api/v3",
		"GHES.Example.com:8443":    "https://ghes.example.com:8443/api/v3",
		"github.com:8443":          "https://github.com:8443/api/v3",
		"10.0.0.5":                 "https://10.0.0.5/api/v3",
		"[::1]:8443":               "https://[::1]:8443/api/v3",
		"notgithub.com":            "https://notgithub.com/api/v3",
		"ghe.com":                  "https://ghe.com/api/v3",
		"example.com.ghe.com.evil": "https://example.com.ghe.com.evil/api/v3",
	}
	for host, want := range cases {
		if got := APIBaseURL(host); got != want {
			t.Errorf("APIBaseURL(%q) = %q, want %q", host, got, want)
		}
	}
}

func TestRequestHeadersAndJWT(t *testing.T) {
	clk := newFakeClock(time.Now().Truncate(time.Second))
	var g *ghServer
	g = newGH(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if !g.appOK(w, r) {
			return
		}
		writeJSON(w, 200, testApp)
	})
	g.clock = clk.Now
	c, _ := g.client(clk)
	keyCalls := 0
	c.Key = func() (crypto.Signer, error) { keyCalls++; return testKey(t), nil }

	app, err := c.App(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := App{ID: 12345, Slug: "my-app", Name: "My App", ClientID: "Iv1.abcdef", HTMLURL: "https://github.com/apps/my-app",
		Owner: Account{Login: "acme", ID: 7, Type: "Organization"}}
	if app.ID != want.ID || app.Slug != want.Slug || app.Name != want.Name || app.ClientID != want.ClientID ||
		app.HTMLURL != want.HTMLURL || app.Owner != want.Owner || app.Permissions["contents"] != "write" {
		t.Errorf("App = %+v", app)
	}
	req := g.Requests()[0]
	if req.Method != "GET" || req.Path != "/app" {
		t.Errorf("request %s %s", req.Method, req.Path)
	}
	for h, want := range map[string]string{
		"Accept":               "application/vnd.github+json",
		"X-Github-Api-Version": "2022-11-28",
		"User-Agent":           "git-credential-ghapp",
	} {
		if got := req.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	raw := strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer ")
	var claims jwt.RegisteredClaims
	if _, err := jwt.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return &testKey(t).PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation()); err != nil {
		t.Fatalf("JWT: %v", err)
	}
	if claims.Issuer != "12345" || !claims.IssuedAt.Equal(clk.Now().Add(-time.Minute)) || !claims.ExpiresAt.Equal(clk.Now().Add(9*time.Minute)) {
		t.Errorf("claims = iss %q iat %v exp %v (now %v)", claims.Issuer, claims.IssuedAt, claims.ExpiresAt, clk.Now())
	}

	// A custom User-Agent; the key is loaded once.
	c.UserAgent = "ci-bot/1.0"
	if _, err := c.App(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := g.Requests()[1].Header.Get("User-Agent"); got != "ci-bot/1.0" {
		t.Errorf("User-Agent = %q", got)
	}
	if keyCalls != 1 {
		t.Errorf("Key called %d times, want 1", keyCalls)
	}
	if off, ok := c.ServerTimeOffset(); !ok || off != 0 {
		t.Errorf("ServerTimeOffset = %v, %v; want 0, true", off, ok)
	}
}

func TestKeyErrorIsReturnedAsIs(t *testing.T) {
	g := newGH(t, func(w http.ResponseWriter, r *http.Request, n int) { writeJSON(w, 200, testApp) })
	c, sl := g.client(nil)
	keyErr := errors.New("file k.pem: the private key is EC; GitHub App keys are RSA")
	c.Key = func() (crypto.Signer, error) { return nil, keyErr }
	_, err := c.App(context.Background())
	if !errors.Is(err, keyErr) || err.Error() != keyErr.Error() {
		t.Fatalf("err = %v", err)
	}
	if g.Hits() != 0 || len(sl.Waits()) != 0 {
		t.Fatalf("hits %d, waits %v: a key error must not be sent or retried", g.Hits(), sl.Waits())
	}
}

func TestCreateToken(t *testing.T) {
	longToken := "ghs_" + strings.Repeat("A1b2.", 100) + "end" // opaque, long, with dots
	var g *ghServer
	g = newGH(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if !g.appOK(w, r) {
			return
		}
		if r.Method != "POST" || r.URL.Path != "/app/installations/42/access_tokens" {
			writeMessage(w, 404, "Not Found")
			return
		}
		writeJSON(w, 201, map[string]any{
			"token": longToken, "expires_at": "2030-01-02T04:04:05Z",
			"permissions":          map[string]string{"contents": "read", "metadata": "read"},
			"repository_selection": "selected",
			"repositories":         []map[string]any{{"id": 1, "name": "widgets", "full_name": "acme/widgets"}},
		})
	})
	c, _ := g.client(nil)

	cases := []struct {
		name string
		req  TokenRequest
		body string
	}{
		{"empty", TokenRequest{}, `{}`},
		{"repositories", TokenRequest{Repositories: []string{"widgets"}}, `{"repositories":["widgets"]}`},
		{"permissions", TokenRequest{Permissions: map[string]string{"contents": "read"}}, `{"permissions":{"contents":"read"}}`},
		{"both", TokenRequest{Repositories: []string{"widgets", "gadgets"}, Permissions: map[string]string{"contents": "read", "metadata": "read"}},
			`{"repositories":["widgets","gadgets"],"permissions":{"contents":"read","metadata":"read"}}`},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := c.CreateToken(context.Background(), 42, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if tok.Token != longToken || !tok.ExpiresAt.Equal(time.Date(2030, 1, 2, 4, 4, 5, 0, time.UTC)) ||
				tok.Permissions["contents"] != "read" || tok.RepositorySelection != "selected" ||
				len(tok.Repositories) != 1 || tok.Repositories[0] != "acme/widgets" {
				t.Errorf("token = %+v", tok)
			}
			req := g.Requests()[i]
			if got := string(req.Body); got != tc.body {
				t.Errorf("body = %s, want %s", got, tc.body)
			}
			if ct := req.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
	if _, err := c.CreateToken(context.Background(), 0, TokenRequest{}); err == nil {
		t.Error("CreateToken(0) succeeded")
	}
	if _, err := c.CreateToken(context.Background(), 42, TokenRequest{Repositories: []string{"acme/widgets"}}); err == nil {
		t.Error("CreateToken accepted a repository name with an owner")
	}
}

func TestRevokeToken(t *testing.T) {
	const token = "ghs_0123456789abcdefghijklmnopqrstuvwxyzAB"
	g := newGH(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.Method != "DELETE" || r.URL.Path != "/installation/token" {
			writeMessage(w, 404, "Not Found")
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+token {
			writeMessage(w, 401, "Bad credentials")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	c, _ := g.client(nil)
	c.Key = func() (crypto.Signer, error) {
		t.Error("RevokeToken asked for the app key")
		return nil, errors.New("no")
	}
	if err := c.RevokeToken(context.Background(), token); err != nil {
		t.Fatal(err)
	}
	req := g.Requests()[0]
	if req.Header.Get("Accept") != "application/vnd.github+json" || req.Header.Get("X-Github-Api-Version") != "2022-11-28" {
		t.Errorf("headers = %v", req.Header)
	}
	err := c.RevokeToken(context.Background(), "ghs_expiredexpiredexpiredexpiredexpired")
	if err == nil || !strings.Contains(err.Error(), "GitHub rejected the installation token (Bad credentials)") {
		t.Fatalf("err = %v", err)
	}
	if err := c.RevokeToken(context.Background(), ""); err == nil {
		t.Fatal("RevokeToken(\"\") succeeded")
	}
}

func TestRetry5xxThenSuccess(t *testing.T) {
	var g *ghServer
	g = newGH(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch n {
		case 1:
			writeMessage(w, 502, "Server Error")
		case 2:
			w.WriteHeader(503)
		default:
			if g.appOK(w, r) {
				writeJSON(w, 200, testApp)
			}
		}
	})
	c, sl := g.client(nil)
	if _, err := c.App(context.Background()); err != nil {
		t.Fatal(err)
	}
	if g.Hits() != 3 {
		t.Errorf("hits = %d, want 3", g.Hits())
	}
	waits := sl.Waits()
	if len(waits) != 2 {
		t.Fatalf("waits = %v, want 2", waits)
	}
	assertBetween(t, waits[0], 125*time.Millisecond, 250*time.Millisecond)
	assertBetween(t, waits[1], 250*time.Millisecond, 500*time.Millisecond)
}

func TestMintRetriedOn5xx(t *testing.T) {
	var g *ghServer
	g = newGH(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			writeMessage(w, 500, "Internal Server Error")
			return
		}
		if g.appOK(w, r) {
			writeJSON(w, 201, map[string]any{"token": "ghs_x", "expires_at": "2030-01-01T00:00:00Z"})
		}
	})
	c, sl := g.client(nil)
	if _, err := c.CreateToken(context.Background(), 5, TokenRequest{Repositories: []string{"r"}}); err != nil {
		t.Fatal(err)
	}
	reqs := g.Requests()
	if len(reqs) != 2 || len(sl.Waits()) != 1 || string(reqs[0].Body) != string(reqs[1].Body) || string(reqs[1].Body) != `{"repositories":["r"]}` {
		t.Fatalf("hits %d, waits %v, bodies %q", len(reqs), sl.Waits(), []string{string(reqs[0].Body), string(reqs[1].Body)})
	}
}

func Test4xxNotRetried(t *testing.T) {
	for _, status := range []int{400, 403, 404, 409, 422} {
		g := newGH(t, func(w http.ResponseWriter, r *http.Request, n int) { writeMessage(w, status, "nope") })
		c, sl := g.client(nil)
		_, err := c.App(context.Background())
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != status || apiErr.Method != "GET" || apiErr.Path != "/app" {
			t.Fatalf("%d: err = %v", status, err)
		}
		if g.Hits() != 1 || len(sl.Waits()) != 0 {
			t.Errorf("%d: hits %d, waits %v", status, g.Hits(), sl.Waits())
		}
		if want := "GitHub answered " + itoa(int64(status)) + " to GET /app: nope"; err.Error() != want {
			t.Errorf("%d: err = %q", status, err)
		}
	}
}

func TestDeadlineStopsRetries(t *testing.T) {
	g := newGH(t, func(w http.ResponseWriter, r *http.Request, n int) { writeMessage(w, 503, "Service Unavailable") })
	clk := newFakeClock(time.Now())
	g.clock = clk.Now
	c, sl := g.client(clk)
	deadline := clk.Now().Add(5 * time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()

	_, err := c.App(ctx)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 {
		t.Fatalf("err = %v", err)
	}
	waits := sl.Waits()
	var total time.Duration
	for _, w := range waits {
		total += w
	}
	if clk.Now().After(deadline) || total >= 5*time.Second {
		t.Errorf("waited %v in all (%v): past the 5s deadline", total, waits)
	}
	// 125-250ms, 250-500ms, 0.5-1s and 1-2s always fit in 5s; nothing after 3.75s can be certain.
	if len(waits) < 4 || g.Hits() != len(waits)+1 {
		t.Errorf("waits %v, hits %d", waits, g.Hits())
	}
	if !strings.Contains(err.Error(), "gave up after") || !strings.Contains(err.Error(), "503") {
		t.Errorf("err = %q", err)
	}
}

func TestRetriesAreBoundedWithoutDeadline(t *testing.T) {
	g := newGH(t, func(w http.ResponseWriter, r *http.Request, n int) { writeMessage(w, 500, "boom") })
	c, sl := g.client(nil)
	_, err := c.App(context.Background())
	if err == nil || g.Hits() != maxAttempts || len(sl.Waits()) != maxAttempts-1 {
		t.Fatalf("err %v, hits %d, waits %v", err, g.Hits(), sl.Waits())
	}
	for i, w := range sl.Waits() {
		if w > maxBackoff {
			t.Errorf("wait %d = %v, above the cap", i, w)
		}
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	g := newGH(t, func(w http.ResponseWriter, r *http.Request, n int) { writeMessage(w, 503, "busy") })
	c, _ := g.client(nil)
	ctx, cancel := context.WithCancel(context.Background())
	c.Sleep = func(ctx context.Context, d time.Duration) error { cancel(); return ctx.Err() }
	_, err := c.App(ctx)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 || !strings.Contains(err.Error(), "context canceled") || g.Hits() != 1 {
		t.Fatalf("err %v, hits %d", err, g.Hits())
	}
}

func TestNetworkErrorsRetried(t *testing.T) {
	for _, reset := range []bool{false, true} {
		var g *ghServer
		g = newGH(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n <= 2 {
				dropConnection(t, w, reset)
				return
			}
			if g.appOK(w, r) {
				writeJSON(w, 200, testApp)
			}
		})
		c, sl := g.client(nil)
		if _, err := c.App(context.Background()); err != nil {
			t.Fatalf("reset=%v: %v", reset, err)
		}
		waits := sl.Waits()
		if g.Hits() != 3 || len(waits) != 2 {
			t.Fatalf("reset=%v: hits %d, waits %v", reset, g.Hits(), waits)
		}
		assertBetween(t, waits[0], 125*time.Millisecond, 250*time.Millisecond)
		assertBetween(t, waits[1], 250*time.Millisecond, 500*time.Millisecond)
	}
}

func TestNetworkErrorAfterRetries(t *testing.T) {
	g := newGH(t, func(w http.ResponseWriter, r *http.Request, n int) { dropConnection(t, w, true) })
	c, sl := g.client(nil)
	_, err := c.App(context.Background())
	var netErr *NetworkError
	if !errors.As(err, &netErr) {
		t.Fatalf("err = %v, want a *NetworkError", err)
	}
	want := "cannot reach GitHub at " + g.srv.URL + ": "
	if !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "; check the network, HTTPS_PROXY and SSL_CERT_FILE") {
		t.Errorf("err = %q", err)
	}
	if g.Hits() != maxAttempts || len(sl.Waits()) != maxAttempts-1 {
		t.Errorf("hits %d, waits %v", g.Hits(), sl.Waits())
	}
}

func TestUntrustedCertificateNotRetried(t *testing.T) {
	g := newGH(t, func(w http.ResponseWriter, r *http.Request, n int) { writeJSON(w, 200, testApp) })
	c, sl := g.client(nil)
	c.HTTP = nil // the default client: system roots, which do not include the test server's
	_, err := c.App(context.Background())
	var netErr *NetworkError
	if !errors.As(err, &netErr) || !strings.Contains(err.Error(), "certificate") ||
		!strings.Contains(err.Error(), "SSL_CERT_FILE") || strings.Contains(err.Error(), `Get "`) {
		t.Fatalf("err = %v", err)
	}
	if len(sl.Waits()) != 0 || g.Hits() != 0 {
		t.Errorf("waits %v, hits %d: a certificate error must not be retried", sl.Waits(), g.Hits())
	}
	tr, ok := c.httpClient().Transport.(*http.Transport)
	if !ok || tr.Proxy == nil || c.httpClient().Timeout == 0 {
		t.Errorf("default client: proxy from environment and a timeout expected")
	}
}

func TestClockSkewRetry(t *testing.T) {
	for _, skew := range []time.Duration{10 * time.Minute, -10 * time.Minute} {
		t.Run(skew.String(), func(t *testing.T) {
			var g *ghServer
			g = newGH(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if g.appOK(w, r) {
					writeJSON(w, 200, testApp)
				}
			})
			g.clock = func() time.Time { return time.Now().Add(skew) }
			c, sl := g.client(nil)
			var learnt []time.Duration
			c.OnClockOffset = func(d time.Duration) { learnt = append(learnt, d) }

			if _, err := c.App(context.Background()); err != nil {
				t.Fatal(err)
			}
			if g.Hits() != 2 || len(sl.Waits()) != 0 {
				t.Fatalf("hits %d, waits %v; want one immediate re-signed retry", g.Hits(), sl.Waits())
			}
			if len(learnt) != 1 || absDiff(learnt[0], skew) > 2*time.Second || absDiff(c.ClockOffset, skew) > 2*time.Second {
				t.Fatalf("OnClockOffset got %v, ClockOffset %v; want about %v", learnt, c.ClockOffset, skew)
			}
			if off, ok := c.ServerTimeOffset(); !ok || absDiff(off, skew) > 2*time.Second {
				t.Errorf("ServerTimeOffset = %v, %v", off, ok)
			}
			// The next call signs with the offset from the start.
			if _, err := c.App(context.Background()); err != nil {
				t.Fatal(err)
			}
			if g.Hits() != 3 || len(learnt) != 1 {
				t.Errorf("hits %d, offsets learnt %v; want no second skew retry", g.Hits(), learnt)
			}
		})
	}
}

func TestClockOffsetUsedFromStart(t *testing.T) {
	var g *ghServer
	g = newGH(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if g.appOK(w, r) {
			writeJSON(w, 200, testApp)
		}
	})
	g.clock = func() time.Time { return time.Now().Add(-10 * time.Minute) }
	c, _ := g.client(nil)
	c.ClockOffset = -10 * time.Minute
	c.OnClockOffset = func(time.Duration) { t.Error("OnClockOffset called") }
	if _, err := c.App(context.Background()); err != nil || g.Hits() != 1 {
		t.Fatalf("err %v, hits %d", err, g.Hits())
	}
}

func TestClockSkewRetriedOnce(t *testing.T) {
	g := newGH(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeMessage(w, 401, "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued")
	})
	c, _ := g.client(nil)
	calls := 0
	c.OnClockOffset = func(time.Duration) { calls++ }
	_, err := c.App(context.Background())
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || g.Hits() != 2 || calls != 1 {
		t.Fatalf("err %v, hits %d, OnClockOffset calls %d", err, g.Hits(), calls)
	}
	if !strings.Contains(err.Error(), "check this machine's clock (GitHub's clock is within a second of this machine's)") {
		t.Errorf("err = %q", err)
	}
}

func TestRejectedJWT(t *testing.T) {
	for _, tc := range []struct {
		name   string
		key    func(testing.TB) *rsa.PrivateKey
		issuer string
		msg    string
		hint   string
	}{
		{"wrong key", otherKey, "12345", "A JSON web token could not be decoded", "the key does not sign for app 12345: check that --app-id is this app's and the key is the app's private key"},
		{"wrong app", testKey, "999", "Integration not found", "GitHub has no app with id 999: check --app-id (the App ID, or Client ID, on the app's settings page)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var g *ghServer
			g = newGH(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if g.appOK(w, r) {
					writeJSON(w, 200, testApp)
				}
			})
			c, sl := g.client(nil)
			c.Issuer = tc.issuer
			c.Key = func() (crypto.Signer, error) { return tc.key(t), nil }
			_, err := c.App(context.Background())
			want := "GitHub rejected the app's JWT (" + tc.msg + "): " + tc.hint
			if err == nil || err.Error() != want {
				t.Fatalf("err = %v\nwant %s", err, want)
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || g.Hits() != 1 || len(sl.Waits()) != 0 {
				t.Errorf("apiErr %v, hits %d, waits %v", apiErr, g.Hits(), sl.Waits())
			}
		})
	}
}

// rateLimitCase runs App against a server that rate-limits the first request with the given
// status, headers and message (headers may use the server's time), then answers 200.
func rateLimitCase(t *testing.T, deadline time.Duration, always bool, limit func(h http.Header, now time.Time) (int, string)) (*Client, *ghServer, *sleeper, *fakeClock, error) {
	t.Helper()
	clk := newFakeClock(time.Now().Truncate(time.Second))
	var g *ghServer
	g = newGH(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 || always {
			status, msg := limit(w.Header(), clk.Now())
			writeMessage(w, status, msg)
			return
		}
		if g.appOK(w, r) {
			writeJSON(w, 200, testApp)
		}
	})
	g.clock = clk.Now
	c, sl := g.client(clk)
	ctx, cancel := context.WithDeadline(context.Background(), clk.Now().Add(deadline))
	defer cancel()
	_, err := c.App(ctx)
	return c, g, sl, clk, err
}

func TestRateLimit429RetryAfterFits(t *testing.T) {
	_, g, sl, _, err := rateLimitCase(t, 30*time.Second, false, func(h http.Header, now time.Time) (int, string) {
		h.Set("Retry-After", "2")
		return 429, "Too Many Requests"
	})
	if err != nil || g.Hits() != 2 || !equalWaits(sl.Waits(), 2*time.Second) {
		t.Fatalf("err %v, hits %d, waits %v", err, g.Hits(), sl.Waits())
	}
}

func TestRateLimit429RetryAfterTooLong(t *testing.T) {
	_, g, sl, clk, err := rateLimitCase(t, 30*time.Second, false, func(h http.Header, now time.Time) (int, string) {
		h.Set("Retry-After", "120")
		return 429, "Too Many Requests"
	})
	want := "GitHub's rate limit is exhausted until " + clk.Now().Add(2*time.Minute).UTC().Format("15:04:05") + " UTC (in 2m); retry then"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err = %v\nwant prefix %s", err, want)
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.RetryAfter != 2*time.Minute {
		t.Errorf("apiErr = %+v", apiErr)
	}
	if g.Hits() != 1 || len(sl.Waits()) != 0 {
		t.Errorf("hits %d, waits %v", g.Hits(), sl.Waits())
	}
}

func TestRateLimit403ResetFits(t *testing.T) {
	_, g, sl, _, err := rateLimitCase(t, 30*time.Second, false, func(h http.Header, now time.Time) (int, string) {
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Reset", itoa(now.Add(5*time.Second).Unix()))
		return 403, "API rate limit exceeded for installation ID 42."
	})
	if err != nil || g.Hits() != 2 || !equalWaits(sl.Waits(), 5*time.Second) {
		t.Fatalf("err %v, hits %d, waits %v", err, g.Hits(), sl.Waits())
	}
}

func TestRateLimit403ResetTooLate(t *testing.T) {
	var reset time.Time
	_, g, sl, _, err := rateLimitCase(t, 30*time.Second, false, func(h http.Header, now time.Time) (int, string) {
		reset = now.Add(12 * time.Minute)
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Reset", itoa(reset.Unix()))
		return 403, "API rate limit exceeded for installation ID 42."
	})
	want := "GitHub's rate limit is exhausted until " + reset.UTC().Format("15:04:05") + " UTC (in 12m); retry then"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err = %v\nwant prefix %s", err, want)
	}
	if g.Hits() != 1 || len(sl.Waits()) != 0 {
		t.Errorf("hits %d, waits %v", g.Hits(), sl.Waits())
	}
}

func TestSecondaryRateLimit(t *testing.T) {
	secondary := func(h http.Header, now time.Time) (int, string) {
		return 403, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
	}
	_, g, sl, _, err := rateLimitCase(t, 90*time.Second, false, secondary)
	if err != nil || g.Hits() != 2 || !equalWaits(sl.Waits(), time.Minute) {
		t.Fatalf("fits: err %v, hits %d, waits %v", err, g.Hits(), sl.Waits())
	}
	_, g, sl, _, err = rateLimitCase(t, 30*time.Second, false, secondary)
	if err == nil || !strings.Contains(err.Error(), "(in 1m); retry then") || g.Hits() != 1 || len(sl.Waits()) != 0 {
		t.Fatalf("too long: err %v, hits %d, waits %v", err, g.Hits(), sl.Waits())
	}
}

func TestRateLimitWaitedOnlyOnce(t *testing.T) {
	_, g, sl, _, err := rateLimitCase(t, 30*time.Second, true, func(h http.Header, now time.Time) (int, string) {
		h.Set("Retry-After", "1")
		return 429, "Too Many Requests"
	})
	if err == nil || !strings.Contains(err.Error(), "rate limit") || g.Hits() != 2 || len(sl.Waits()) != 1 {
		t.Fatalf("err %v, hits %d, waits %v", err, g.Hits(), sl.Waits())
	}
}

func TestResponseTooLarge(t *testing.T) {
	g := newGH(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.WriteHeader(200)
		_, _ = w.Write([]byte(`{"slug":"`))
		_, _ = w.Write([]byte(strings.Repeat("x", 5<<20)))
	})
	c, sl := g.client(nil)
	_, err := c.App(context.Background())
	if err == nil || !strings.Contains(err.Error(), "larger than 4 MiB") || g.Hits() != 1 || len(sl.Waits()) != 0 {
		t.Fatalf("err %v, hits %d", err, g.Hits())
	}
}

func TestNonJSONErrorBody(t *testing.T) {
	g := newGH(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(407)
		_, _ = w.Write([]byte("<html>\n<body>Proxy\r\nAuthentication Required</body></html>"))
	})
	c, _ := g.client(nil)
	_, err := c.App(context.Background())
	want := "GitHub answered 407 to GET /app: <html> <body>Proxy Authentication Required</body></html>"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v", err)
	}
}

func TestTraceHasNoSecrets(t *testing.T) {
	var g *ghServer
	g = newGH(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			writeMessage(w, 502, "bad gateway")
			return
		}
		if g.appOK(w, r) {
			writeJSON(w, 200, testApp)
		}
	})
	c, _ := g.client(nil)
	var mu sync.Mutex
	var lines []string
	c.Trace = func(msg string) { mu.Lock(); lines = append(lines, msg); mu.Unlock() }
	if _, err := c.App(context.Background()); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(lines, "\n")
	if !strings.Contains(all, "GET /app -> 502") || !strings.Contains(all, "GET /app -> 200") || !strings.Contains(all, "retrying in") {
		t.Errorf("trace = %q", all)
	}
	for _, jwt := range g.JWTs() {
		if strings.Contains(all, jwt) {
			t.Fatal("the trace contains the JWT")
		}
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		45 * time.Second:                   "45s",
		3*time.Minute + 20*time.Second:     "3m20s",
		2 * time.Minute:                    "2m",
		12*time.Minute + 10*time.Second:    "12m",
		time.Hour + 5*time.Minute + 3:      "1h5m",
		2 * time.Hour:                      "2h",
		500 * time.Millisecond:             "less than a second",
		59*time.Minute + 50*time.Second:    "1h",
		10*time.Minute + 29*time.Second:    "10m",
		9*time.Minute + 59*time.Second + 1: "9m59s",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func assertBetween(t *testing.T, d, lo, hi time.Duration) {
	t.Helper()
	if d < lo || d > hi {
		t.Errorf("wait %v not within [%v, %v]", d, lo, hi)
	}
}

func equalWaits(got []time.Duration, want ...time.Duration) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

func absDiff(a, b time.Duration) time.Duration {
	if a > b {
		return a - b
	}
	return b - a
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
