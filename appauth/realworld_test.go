package appauth

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a second server on loopback (plain HTTP or TLS) that records every request and
// answers what a hostile or foreign server would: a token of its own.
type recorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits []http.Header
}

func newRecorder(t *testing.T, tlsOn bool) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.hits = append(rec.hits, r.Header.Clone())
		rec.mu.Unlock()
		if r.Method == http.MethodPost {
			writeJSON(w, 201, map[string]any{"token": "ghs_planted0000000000000000000000000000", "expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
			return
		}
		writeJSON(w, 200, installationJSONFor(666, "evil"))
	}))
	rec.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tlsOn {
		rec.srv.StartTLS()
	} else {
		rec.srv.Start()
	}
	t.Cleanup(rec.srv.Close)
	return rec
}

func (r *recorder) Hits() []http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]http.Header(nil), r.hits...)
}

// TestRedirectsStayInTheAPIOrigin: a redirect is followed only within the API's https origin;
// to plain HTTP on the same host, or to another server, nothing is sent and the answer is an
// error in one line.
func TestRedirectsStayInTheAPIOrigin(t *testing.T) {
	plain := newRecorder(t, false)
	other := newRecorder(t, true)
	plainURL, _ := url.Parse(plain.srv.URL)
	for _, tc := range []struct {
		name, method string
		status       int
		location     func(g *ghServer) string
		want         string
	}{
		{"https to http on the same host", "GET", 301,
			func(*ghServer) string { return "http://" + plainURL.Host + "/repositories/7/installation" },
			"with a redirect to http://" + plainURL.Host + ", outside "},
		{"to another https server", "GET", 302,
			func(*ghServer) string { return other.srv.URL + "/repositories/7/installation" }, "with a redirect to " + other.srv.URL + ", outside "},
		{"mint to another server", "POST", 307,
			func(*ghServer) string { return other.srv.URL + "/app/installations/42/access_tokens" }, "with a redirect to " + other.srv.URL + ", outside "},
		{"mint 301 would drop the body", "POST", 301,
			func(g *ghServer) string { return g.srv.URL + "/app/installations/43/access_tokens" }, "a redirect that would drop the request body"},
		{"304", "GET", 304, func(*ghServer) string { return "" }, "which is not an answer the helper understands"},
		{"no location", "GET", 302, func(*ghServer) string { return "" }, "without a Location"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var g *ghServer
			g = newGH(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if !g.appOK(w, r) {
					return
				}
				if loc := tc.location(g); loc != "" {
					w.Header().Set("Location", loc)
				}
				writeMessage(w, tc.status, "Moved Permanently")
			})
			c, sl := g.client(nil)
			var err error
			if tc.method == "POST" {
				_, err = c.CreateToken(context.Background(), 42, TokenRequest{Repositories: []string{"app"}})
			} else {
				_, err = c.RepoInstallation(context.Background(), "acme", "old")
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v\nwant it to contain %q (one line)", err, tc.want)
			}
			if strings.Contains(err.Error(), "eyJ") || strings.Contains(err.Error(), "/repositories/7") {
				t.Errorf("error repeats the target path or a JWT: %v", err)
			}
			if h := plain.Hits(); len(h) != 0 {
				t.Errorf("the plain-HTTP server got %d requests (Authorization %q)", len(h), h[0].Get("Authorization"))
			}
			if h := other.Hits(); len(h) != 0 {
				t.Errorf("the other server got %d requests (Authorization %q)", len(h), h[0].Get("Authorization"))
			}
			if g.Hits() != 1 || len(sl.Waits()) != 0 {
				t.Errorf("hits %d, waits %v", g.Hits(), sl.Waits())
			}
		})
	}
}

// TestRenamedRepositoryRedirect: GitHub answers 301 to /repositories/ID/installation for a
// renamed or transferred repository; the client follows it within the origin, with the JWT, and
// reports the repository id.
func TestRenamedRepositoryRedirect(t *testing.T) {
	var g *ghServer
	g = newGH(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if !g.appOK(w, r) {
			return
		}
		switch r.URL.Path {
		case "/repos/acme/old/installation":
			w.Header().Set("Location", g.srv.URL+"/repositories/700001/installation")
			writeJSON(w, 301, map[string]string{"message": "Moved Permanently", "url": g.srv.URL + "/repositories/700001/installation",
				"documentation_url": "https://docs.github.com/rest/apps/apps#get-a-repository-installation-for-the-authenticated-app"})
		case "/repositories/700001/installation":
			writeJSON(w, 200, installationJSONFor(42, "acme"))
		case "/app/installations/42/access_tokens":
			writeJSON(w, 201, map[string]any{"token": "ghs_x", "expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
		default:
			writeMessage(w, 404, "Not Found")
		}
	})
	c, _ := g.client(nil)
	inst, err := c.RepoInstallation(context.Background(), "acme", "old")
	if err != nil {
		t.Fatal(err)
	}
	if inst.ID != 42 || inst.MovedRepositoryID != 700001 {
		t.Fatalf("installation %d, moved id %d; want 42, 700001", inst.ID, inst.MovedRepositoryID)
	}
	reqs := g.Requests()
	if len(reqs) != 2 || reqs[1].Path != "/repositories/700001/installation" || !strings.HasPrefix(reqs[1].Header.Get("Authorization"), "Bearer eyJ") {
		t.Fatalf("requests %+v", reqs)
	}
	// A repository that did not move has no id.
	if _, err := c.CreateToken(context.Background(), 42, TokenRequest{RepositoryIDs: []int64{700001}}); err != nil {
		t.Fatal(err)
	}
	if body := string(g.Requests()[2].Body); body != `{"repository_ids":[700001]}` {
		t.Errorf("mint body %s", body)
	}
}

// TestOnlyInstallationSkipsEnterprise: an enterprise installation (account with slug, no
// login or type; target_type Enterprise) is not a candidate for "the app's only installation".
func TestOnlyInstallationSkipsEnterprise(t *testing.T) {
	var g *ghServer
	g = newGH(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if !g.appOK(w, r) {
			return
		}
		ent := map[string]any{"id": 5, "account": map[string]any{"id": 77, "slug": "octo-business", "name": "Octo Business",
			"node_id": "E_1", "html_url": "https://github.com/enterprises/octo-business"},
			"repository_selection": "selected", "app_id": 12345, "target_type": "Enterprise", "permissions": map[string]string{"enterprise_custom_properties_for_organizations": "read"}}
		writeJSON(w, 200, []any{ent, installationJSONFor(42, "acme")})
	})
	c, _ := g.client(nil)
	inst, err := c.FindInstallation(context.Background(), "", "")
	if err != nil || inst.ID != 42 {
		t.Fatalf("FindInstallation = %+v, %v; want installation 42", inst, err)
	}
	all, err := c.Installations(context.Background())
	if err != nil || len(all) != 2 || !all[0].Enterprise() || all[0].Account.Login != "octo-business" || all[1].Enterprise() {
		t.Fatalf("Installations = %+v, %v", all, err)
	}
}

// TestClientIDRefusedByServer: a server that accepts only numeric App IDs answers GitHub's
// "'Issuer' claim ('iss') must be an Integer"; the error says to use the App ID.
func TestClientIDRefusedByServer(t *testing.T) {
	g := newGH(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeMessage(w, 401, "'Issuer' claim ('iss') must be an Integer")
	})
	c, _ := g.client(nil)
	c.Issuer = "Iv23liabcdef"
	_, err := c.App(context.Background())
	want := "GitHub rejected the Client ID Iv23liabcdef as the app's JWT issuer ('Issuer' claim ('iss') must be an Integer): use the numeric App ID on this server"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err = %v\nwant prefix %s", err, want)
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 {
		t.Errorf("apiErr = %+v", apiErr)
	}
}

// TestAbuseDetectionIsARateLimit: GitHub's secondary-limit wording before 2021 is a rate limit;
// its Retry-After is honoured.
func TestAbuseDetectionIsARateLimit(t *testing.T) {
	_, g, _, _, err := rateLimitCase(t, 30*time.Second, false, func(h http.Header, now time.Time) (int, string) {
		return 403, "You have triggered an abuse detection mechanism. Please wait a few minutes before you try again."
	})
	if err == nil || !strings.HasPrefix(err.Error(), "GitHub's rate limit is exhausted") || g.Hits() != 1 {
		t.Fatalf("without Retry-After: err %v, hits %d", err, g.Hits())
	}
	_, g, sl, _, err := rateLimitCase(t, 30*time.Second, false, func(h http.Header, now time.Time) (int, string) {
		h.Set("Retry-After", "3")
		return 403, "You have triggered an abuse detection mechanism. Please wait a few minutes before you try again."
	})
	if err != nil || g.Hits() != 2 || !equalWaits(sl.Waits(), 3*time.Second) {
		t.Fatalf("with Retry-After: err %v, hits %d, waits %v", err, g.Hits(), sl.Waits())
	}
}

// TestAwaitToken: while GitHub refuses a new token (401, or 403 when scoped) the client asks
// again with short waits, until FreshTokenWait after the mint; other answers end it at once.
func TestAwaitToken(t *testing.T) {
	for _, tc := range []struct {
		name     string
		refusals int
		status   int
		wantErr  bool
		hits     int
	}{
		{"accepted at once", 0, 401, false, 1},
		{"401 twice", 2, 401, false, 3},
		{"403 for a scoped token", 3, 403, false, 4},
		{"never accepted", 1000, 401, true, -1},
		{"not found is not lag", 1000, 404, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock(time.Now().Truncate(time.Second))
			g := newGH(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if r.URL.Path != "/installation/repositories" || r.URL.RawQuery != "per_page=1" || r.Header.Get("Authorization") != "Bearer ghs_new" {
					writeMessage(w, 400, "unexpected request "+r.URL.String())
					return
				}
				if n <= tc.refusals {
					writeMessage(w, tc.status, "Bad credentials")
					return
				}
				writeJSON(w, 200, map[string]any{"total_count": 1, "repositories": []any{}})
			})
			g.clock = clk.Now
			c, sl := g.client(clk)
			minted := clk.Now()
			err := c.AwaitToken(context.Background(), "ghs_new", minted)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if tc.hits >= 0 && g.Hits() != tc.hits {
				t.Errorf("hits %d; want %d", g.Hits(), tc.hits)
			}
			var total time.Duration
			for _, w := range sl.Waits() {
				total += w
			}
			if total > FreshTokenWait {
				t.Errorf("waited %s in all (%v); at most %s after the mint", total, sl.Waits(), FreshTokenWait)
			}
			if tc.name == "never accepted" && clk.Now().Sub(minted) != FreshTokenWait {
				t.Errorf("gave up %s after the mint; want %s", clk.Now().Sub(minted), FreshTokenWait)
			}
		})
	}
}
