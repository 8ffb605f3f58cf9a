package appauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// discoveryServer answers /app, repository and user installations, and the installation list
// (with the given installations), like GitHub.
func discoveryServer(t *testing.T, appStatus int, installed map[string]int64, list []map[string]any) *ghServer {
	var g *ghServer
	g = newGH(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if !g.appOK(w, r) {
			return
		}
		switch {
		case r.URL.Path == "/app":
			if appStatus != 200 {
				writeMessage(w, appStatus, "Forbidden")
				return
			}
			writeJSON(w, 200, testApp)
		case r.URL.Path == "/app/installations":
			writeJSON(w, 200, list)
		case strings.HasPrefix(r.URL.Path, "/repos/") && strings.HasSuffix(r.URL.Path, "/installation"):
			full := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/repos/"), "/installation")
			if id, ok := installed[full]; ok {
				writeJSON(w, 200, installationJSONFor(id, strings.Split(full, "/")[0]))
				return
			}
			writeMessage(w, 404, "Not Found")
		case strings.HasPrefix(r.URL.Path, "/users/") && strings.HasSuffix(r.URL.Path, "/installation"):
			login := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/users/"), "/installation")
			if id, ok := installed[login]; ok {
				writeJSON(w, 200, installationJSONFor(id, login))
				return
			}
			writeMessage(w, 404, "Not Found")
		default:
			writeMessage(w, 404, "Not Found")
		}
	})
	return g
}

func TestRepoAndUserInstallation(t *testing.T) {
	g := discoveryServer(t, 200, map[string]int64{"acme/widgets": 42, "acme": 43}, nil)
	c, _ := g.client(nil)
	in, err := c.RepoInstallation(context.Background(), "acme", "widgets")
	if err != nil {
		t.Fatal(err)
	}
	want := Installation{ID: 42, Account: Account{Login: "acme", ID: 420, Type: "Organization"}, RepositorySelection: "selected",
		AppID: 12345, AppSlug: "my-app", TargetType: "Organization", HTMLURL: "https://github.com/organizations/acme/settings/installations/42"}
	if in.ID != want.ID || in.Account != want.Account || in.RepositorySelection != want.RepositorySelection || in.AppID != want.AppID ||
		in.AppSlug != want.AppSlug || in.TargetType != want.TargetType || in.HTMLURL != want.HTMLURL || in.Permissions["contents"] != "read" {
		t.Errorf("installation = %+v", in)
	}
	in, err = c.UserInstallation(context.Background(), "acme")
	if err != nil || in.ID != 43 {
		t.Fatalf("UserInstallation = %+v, %v", in, err)
	}
	reqs := g.Requests()
	if reqs[0].Path != "/repos/acme/widgets/installation" || reqs[1].Path != "/users/acme/installation" {
		t.Errorf("paths %q %q", reqs[0].Path, reqs[1].Path)
	}
}

func TestPathsAreEscaped(t *testing.T) {
	g := discoveryServer(t, 200, nil, nil)
	c, _ := g.client(nil)
	_, _ = c.RepoInstallation(context.Background(), "ac me", "w%d x")
	hits := g.Hits()
	if got := g.Requests()[0].EscapedPath; got != "/repos/ac%20me/w%25d%20x/installation" {
		t.Errorf("escaped path = %q", got)
	}
	for _, bad := range [][2]string{{"..", "x"}, {"acme", ".."}, {"acme", "a/b"}, {"", "x"}, {"acme", "."}, {"acme", "a?b"}} {
		if _, err := c.RepoInstallation(context.Background(), bad[0], bad[1]); err == nil || IsNotFound(err) {
			t.Errorf("RepoInstallation(%q, %q) err = %v", bad[0], bad[1], err)
		}
	}
	if _, err := c.UserInstallation(context.Background(), "../app"); err == nil || IsNotFound(err) {
		t.Errorf("UserInstallation(../app) err = %v", err)
	}
	if g.Hits() != hits {
		t.Errorf("hits = %d, want %d: invalid names must not be sent", g.Hits(), hits)
	}
}

func TestNotInstalledMessages(t *testing.T) {
	cases := []struct {
		name      string
		appStatus int
		call      func(c *Client) error
		want      string
	}{
		{"repo", 200, func(c *Client) error {
			_, err := c.RepoInstallation(context.Background(), "acme", "widgets")
			return err
		},
			"the GitHub App is not installed on acme/widgets (or cannot see it): install it at https://github.com/apps/my-app/installations/new"},
		{"repo without link", 403, func(c *Client) error {
			_, err := c.RepoInstallation(context.Background(), "acme", "widgets")
			return err
		},
			"the GitHub App is not installed on acme/widgets (or cannot see it)"},
		{"user", 200, func(c *Client) error { _, err := c.UserInstallation(context.Background(), "bob"); return err },
			"the GitHub App is not installed on the account bob (or the account does not exist): install it at https://github.com/apps/my-app/installations/new"},
		{"find by repo", 200, func(c *Client) error {
			_, err := c.FindInstallation(context.Background(), "acme", "widgets")
			return err
		},
			"the GitHub App is not installed on acme/widgets (or cannot see it): install it at https://github.com/apps/my-app/installations/new"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := discoveryServer(t, tc.appStatus, nil, nil)
			c, _ := g.client(nil)
			err := tc.call(c)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v\nwant  %s", err, tc.want)
			}
			if !IsNotFound(err) {
				t.Error("IsNotFound = false")
			}
		})
	}
}

func TestFindInstallation(t *testing.T) {
	one := []map[string]any{installationJSONFor(7, "solo")}
	t.Run("repo", func(t *testing.T) {
		g := discoveryServer(t, 200, map[string]int64{"acme/widgets": 42}, one)
		c, _ := g.client(nil)
		in, err := c.FindInstallation(context.Background(), "acme", "widgets")
		if err != nil || in.ID != 42 || g.Requests()[0].Path != "/repos/acme/widgets/installation" {
			t.Fatalf("in %+v, err %v", in, err)
		}
	})
	t.Run("owner", func(t *testing.T) {
		g := discoveryServer(t, 200, map[string]int64{"acme": 43}, one)
		c, _ := g.client(nil)
		in, err := c.FindInstallation(context.Background(), "acme", "")
		if err != nil || in.ID != 43 || g.Requests()[0].Path != "/users/acme/installation" {
			t.Fatalf("in %+v, err %v", in, err)
		}
	})
	t.Run("only one", func(t *testing.T) {
		g := discoveryServer(t, 200, nil, one)
		c, _ := g.client(nil)
		in, err := c.FindInstallation(context.Background(), "", "")
		if err != nil || in.ID != 7 || in.Account.Login != "solo" {
			t.Fatalf("in %+v, err %v", in, err)
		}
	})
	t.Run("none", func(t *testing.T) {
		g := discoveryServer(t, 200, nil, []map[string]any{})
		c, _ := g.client(nil)
		_, err := c.FindInstallation(context.Background(), "", "")
		want := "the GitHub App has no installations: install it at https://github.com/apps/my-app/installations/new"
		if !errors.Is(err, ErrNoInstallations) || err.Error() != want {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("several", func(t *testing.T) {
		g := discoveryServer(t, 200, nil, []map[string]any{installationJSONFor(1, "bob"), installationJSONFor(2, "acme")})
		c, _ := g.client(nil)
		_, err := c.FindInstallation(context.Background(), "", "")
		if !errors.Is(err, ErrSeveralInstallations) {
			t.Fatalf("err = %v", err)
		}
		for _, want := range []string{"installed on 2 accounts (acme, bob)", "credential.useHttpPath true", "--owner"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
		}
	})
}

func TestInstallationsPagination(t *testing.T) {
	var g *ghServer
	g = newGH(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if !g.appOK(w, r) {
			return
		}
		if r.URL.Path != "/api/v3/app/installations" || r.URL.Query().Get("per_page") != "100" {
			writeMessage(w, 404, "Not Found")
			return
		}
		page := r.URL.Query().Get("page")
		base := g.srv.URL + "/api/v3/app/installations?per_page=100&page="
		last := fmt.Sprintf(`<%s3>; rel="last"`, base)
		switch page {
		case "", "1":
			w.Header().Set("Link", fmt.Sprintf(`<%s2>; rel="next", %s`, base, last))
			writeJSON(w, 200, []map[string]any{installationJSONFor(1, "a"), installationJSONFor(2, "b")})
		case "2":
			w.Header().Add("Link", fmt.Sprintf(`<%s1>; rel="prev"`, base))
			w.Header().Add("Link", fmt.Sprintf(`<%s3>; rel="next", %s`, base, last))
			writeJSON(w, 200, []map[string]any{installationJSONFor(3, "c"), installationJSONFor(4, "d")})
		case "3":
			w.Header().Set("Link", fmt.Sprintf(`<%s2>; rel="prev", <%s1>; rel="first"`, base, base))
			writeJSON(w, 200, []map[string]any{installationJSONFor(5, "e")})
		default:
			writeMessage(w, 404, "Not Found")
		}
	})
	c, _ := g.client(nil)
	c.BaseURL = g.srv.URL + "/api/v3/"
	all, err := c.Installations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, in := range all {
		ids = append(ids, in.ID)
	}
	if fmt.Sprint(ids) != "[1 2 3 4 5]" || all[4].Account.Login != "e" {
		t.Errorf("installations = %v", ids)
	}
	if g.Hits() != 3 {
		t.Errorf("hits = %d, want 3", g.Hits())
	}
}

func TestInstallationsNextLinkElsewhere(t *testing.T) {
	g := newGH(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Link", `<https://evil.example/app/installations?page=2>; rel="next"`)
		writeJSON(w, 200, []map[string]any{installationJSONFor(1, "a")})
	})
	c, _ := g.client(nil)
	_, err := c.Installations(context.Background())
	if err == nil || !strings.Contains(err.Error(), "points outside") || g.Hits() != 1 {
		t.Fatalf("err %v, hits %d", err, g.Hits())
	}
}

func TestNextLink(t *testing.T) {
	for in, want := range map[string]string{
		`<https://a/x?page=2>; rel="next", <https://a/x?page=9>; rel="last"`: "https://a/x?page=2",
		`<https://a/x?page=1>; rel="prev"`:                                   "",
		`<https://a/x?page=3>; rel=next`:                                     "https://a/x?page=3",
		`<https://a/x?page=4>; REL="prev next"`:                              "https://a/x?page=4",
		`garbage`:                                                            "",
	} {
		if got := nextLink([]string{in}); got != want {
			t.Errorf("nextLink(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMintRefusals(t *testing.T) {
	cases := []struct {
		name, msg string
		status    int
		req       TokenRequest
		want      string
		notFound  bool
	}{
		{"repository", "There is at least one repository that does not exist or is not accessible to the parent installation.", 422,
			TokenRequest{Repositories: []string{"widgets"}},
			"GitHub would not grant a token for repository widgets: installation 42 cannot access it", false},
		{"permissions", "The permissions requested are not granted to this installation.", 422,
			TokenRequest{Repositories: []string{"widgets"}, Permissions: map[string]string{"issues": "read", "contents": "write"}},
			"GitHub would not grant a token with permissions contents:write,issues:read: installation 42 was not granted them", false},
		{"other", "Validation Failed", 422,
			TokenRequest{Repositories: []string{"widgets"}, Permissions: map[string]string{"contents": "read"}},
			"GitHub refused the request for a token for repositories widgets with permissions contents:read on installation 42 (422: Validation Failed); this is not a missing grant", false},
		// GitHub's REST description words every 422 of this endpoint "Validation failed, or the
		// endpoint has been spammed"; naming the repositories field must not make it "not granted".
		{"spammed", "Validation failed, or the endpoint has been spammed.", 422,
			TokenRequest{Repositories: []string{"widgets"}},
			"GitHub refused the request for a token for repositories widgets on installation 42 (422: Validation failed, or the endpoint has been spammed.", false},
		{"too complex", "Validation Failed; repositories is too complex", 422,
			TokenRequest{Repositories: []string{"a", "b"}, Permissions: map[string]string{"contents": "read"}},
			"GitHub refused the request for a token for repositories a, b with permissions contents:read on installation 42 (422: Validation Failed; repositories is too complex); this is not a missing grant", false},
		{"by id", "There is at least one repository that does not exist or is not accessible to the parent installation.", 422,
			TokenRequest{RepositoryIDs: []int64{700001}},
			"GitHub would not grant a token for repository #700001: installation 42 cannot access it", false},
		{"installation gone", "Not Found", 404, TokenRequest{},
			"installation 42 of the GitHub App was not found (was the app uninstalled?)", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var g *ghServer
			g = newGH(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if g.appOK(w, r) {
					writeMessage(w, tc.status, tc.msg)
				}
			})
			c, _ := g.client(nil)
			_, err := c.CreateToken(context.Background(), 42, tc.req)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant prefix %s", err, tc.want)
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tc.status || IsNotFound(err) != tc.notFound {
				t.Errorf("apiErr %+v, IsNotFound %v", apiErr, IsNotFound(err))
			}
			if g.Hits() != 1 {
				t.Errorf("hits = %d", g.Hits())
			}
		})
	}
}

func TestValidationErrorsInMessage(t *testing.T) {
	var g *ghServer
	g = newGH(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if g.appOK(w, r) {
			writeJSON(w, 422, map[string]any{"message": "Validation Failed",
				"errors": []any{map[string]string{"resource": "Permissions", "field": "pull-requests", "code": "invalid"}, "plain text"}})
		}
	})
	c, _ := g.client(nil)
	_, err := c.CreateToken(context.Background(), 42, TokenRequest{Permissions: map[string]string{"pull-requests": "read"}})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Message != "Validation Failed; Permissions pull-requests invalid; plain text" {
		t.Fatalf("err = %v", err)
	}
}

// TestNoSecretsInErrors runs failures where GitHub (or a proxy) echoes what it was sent, and a
// broken key, and checks that no error text contains the key, a JWT or the token.
func TestNoSecretsInErrors(t *testing.T) {
	const token = "ghs_16C7e42F292c6912E7710c838347Ae178B4a"
	pemText := string(pemPKCS1(testKey(t)))
	echo := func(r *http.Request) string {
		return "you sent " + r.Header.Get("Authorization") + " and raw " + strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") +
			" and key " + pemText
	}
	var g *ghServer
	g = newGH(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch r.URL.Path {
		case "/app":
			writeMessage(w, 401, "A JSON web token could not be decoded: "+echo(r))
		case "/app/installations/1/access_tokens":
			writeMessage(w, 422, "There is at least one repository: "+echo(r))
		case "/app/installations/2/access_tokens":
			w.WriteHeader(500)
			_, _ = w.Write([]byte("<html>" + echo(r) + "</html>"))
		case "/installation/token":
			writeMessage(w, 403, "Resource not accessible: "+echo(r))
		case "/app/installations":
			w.Header().Set("Retry-After", "3600")
			writeMessage(w, 429, "slow down "+echo(r))
		default:
			writeMessage(w, 404, "Not Found "+echo(r))
		}
	})
	c, _ := g.client(nil)
	var traced []string
	c.Trace = func(s string) { traced = append(traced, s) }
	ctx := context.Background()
	var errs []error
	_, err := c.App(ctx)
	errs = append(errs, err)
	_, err = c.CreateToken(ctx, 1, TokenRequest{Repositories: []string{"widgets"}})
	errs = append(errs, err)
	_, err = c.CreateToken(ctx, 2, TokenRequest{})
	errs = append(errs, err)
	_, err = c.RepoInstallation(ctx, "acme", "widgets")
	errs = append(errs, err)
	_, err = c.FindInstallation(ctx, "", "")
	errs = append(errs, err)
	errs = append(errs, c.RevokeToken(ctx, token))

	// Unreachable, and a bad key from every source.
	dead, _ := g.client(nil)
	dead.BaseURL = "https://127.0.0.1:1"
	_, err = dead.App(ctx)
	errs = append(errs, err)
	damaged := strings.Replace(pemText, "M", "#", 3)
	_, _, err = KeySource{Env: damaged}.Load()
	errs = append(errs, err)
	_, err = ParsePrivateKey([]byte(strings.ReplaceAll(damaged, "\n", `\n`)))
	errs = append(errs, err)

	jwts := g.JWTs()
	if len(jwts) == 0 {
		t.Fatal("no JWT was sent")
	}
	texts := append([]string(nil), traced...)
	for i, err := range errs {
		if err == nil {
			t.Fatalf("case %d: no error", i)
		}
		texts = append(texts, err.Error())
	}
	for _, text := range texts {
		for _, jwt := range jwts {
			if strings.Contains(text, jwt) {
				t.Errorf("text contains the JWT: %q", text)
			}
		}
		if strings.Contains(text, token) || strings.Contains(text, "eyJ") || strings.Contains(text, "PRIVATE KEY-----") {
			t.Errorf("text contains a secret: %q", text)
		}
		assertNoKeyMaterial(t, text, pemText)
	}
}

func TestRelativeTo(t *testing.T) {
	for _, tc := range []struct{ base, link, want string }{
		{"https://api.github.com", "https://api.github.com/app/installations?per_page=100&page=2", "/app/installations?per_page=100&page=2"},
		{"https://API.GitHub.com", "https://api.github.com/app/installations?page=2", "/app/installations?page=2"},
		{"https://ghes.example/api/v3", "https://ghes.example/api/v3/app/installations?page=2", "/app/installations?page=2"},
		{"https://ghes.example/api/v3", "https://ghes.example/api/v3x/app/installations", ""},
		{"https://ghes.example/api/v3", "https://ghes.example/app/installations", ""},
		{"https://api.github.com", "http://api.github.com/app/installations", ""},
		{"https://api.github.com", "https://api.github.com:8443/app/installations", ""},
		{"https://api.github.com", "https://evil.example/app/installations", ""},
		{"https://api.github.com", "https://user@api.github.com/app/installations", ""},
	} {
		got, ok := relativeTo(tc.base, tc.link)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("relativeTo(%q, %q) = %q, %v; want %q", tc.base, tc.link, got, ok, tc.want)
		}
	}
}
