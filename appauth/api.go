package appauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// APIBaseURL returns the REST API base for a git host: "github.com" -> "https://api.github.com";
// "NAME.ghe.com" (GitHub Enterprise Cloud with data residency) -> "https://api.NAME.ghe.com";
// any other host (GitHub Enterprise Server) -> "https://HOST/api/v3". The host may carry a port,
// which is kept; it is compared case-insensitively and returned in lower case.
func APIBaseURL(host string) string {
	h := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(host)), "/")
	name, port := h, ""
	if hn, p, err := net.SplitHostPort(h); err == nil {
		name, port = hn, p
	}
	switch {
	case name == "github.com" && (port == "" || port == "443"):
		return "https://api.github.com"
	case strings.HasSuffix(name, ".ghe.com"):
		return "https://api." + h
	default:
		return "https://" + h + "/api/v3"
	}
}

// Account is the user, organization or enterprise an installation belongs to.
type Account struct {
	// Login is the account's login (an enterprise's slug).
	Login string
	ID    int64
	// Type is "User", "Organization" or "Enterprise".
	Type string
}

// Installation is one installation of the app on an account.
type Installation struct {
	ID      int64
	Account Account
	// RepositorySelection is "all" or "selected".
	RepositorySelection string
	AppID               int64
	AppSlug             string
	TargetType          string
	// Permissions maps a permission name (e.g. "contents") to "read", "write" or "admin".
	Permissions map[string]string
	HTMLURL     string
}

// App is the GitHub App itself, as GET /app describes it.
type App struct {
	ID                            int64
	Slug, Name, ClientID, HTMLURL string
	Owner                         Account
	Permissions                   map[string]string
}

// TokenRequest narrows an installation access token.
type TokenRequest struct {
	// Repositories are repository names without the owner; empty means every repository the
	// installation can access.
	Repositories []string
	// Permissions maps permission names to levels, e.g. {"contents": "read"}; empty means all the
	// installation's permissions.
	Permissions map[string]string
}

// Token is an installation access token. Token is opaque: its length and format vary.
type Token struct {
	Token string
	// ExpiresAt is when GitHub says the token expires (about an hour after minting).
	ExpiresAt time.Time
	// Permissions are the token's permissions as GitHub granted them.
	Permissions map[string]string
	// RepositorySelection is "all" or "selected".
	RepositorySelection string
	// Repositories are the full names (OWNER/REPO) of the repositories the token is limited to,
	// when GitHub lists them.
	Repositories []string
}

type accountJSON struct {
	Login string `json:"login"`
	Slug  string `json:"slug"`
	ID    int64  `json:"id"`
	Type  string `json:"type"`
}

func (a *accountJSON) account() Account {
	if a == nil {
		return Account{}
	}
	login := a.Login
	if login == "" {
		login = a.Slug
	}
	typ := a.Type
	if typ == "" && a.Slug != "" {
		typ = "Enterprise"
	}
	return Account{Login: login, ID: a.ID, Type: typ}
}

type installationJSON struct {
	ID                  int64             `json:"id"`
	Account             *accountJSON      `json:"account"`
	RepositorySelection string            `json:"repository_selection"`
	AppID               int64             `json:"app_id"`
	AppSlug             string            `json:"app_slug"`
	TargetType          string            `json:"target_type"`
	Permissions         map[string]string `json:"permissions"`
	HTMLURL             string            `json:"html_url"`
}

func (i *installationJSON) installation() Installation {
	return Installation{
		ID:                  i.ID,
		Account:             i.Account.account(),
		RepositorySelection: i.RepositorySelection,
		AppID:               i.AppID,
		AppSlug:             i.AppSlug,
		TargetType:          i.TargetType,
		Permissions:         i.Permissions,
		HTMLURL:             i.HTMLURL,
	}
}

// App returns the app as GET /app describes it. It is the simplest check that the key and the
// app id belong together. Errors are as for every call (see Client); a rejected JWT says to check
// that the key is the app's.
func (c *Client) App(ctx context.Context) (*App, error) {
	r := request{method: http.MethodGet, path: "/app", auth: authApp}
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	var v struct {
		ID          int64             `json:"id"`
		Slug        string            `json:"slug"`
		Name        string            `json:"name"`
		ClientID    string            `json:"client_id"`
		HTMLURL     string            `json:"html_url"`
		Owner       *accountJSON      `json:"owner"`
		Permissions map[string]string `json:"permissions"`
	}
	if err := decode(r, resp, &v); err != nil {
		return nil, err
	}
	app := &App{ID: v.ID, Slug: v.Slug, Name: v.Name, ClientID: v.ClientID, HTMLURL: v.HTMLURL,
		Owner: v.Owner.account(), Permissions: v.Permissions}
	c.mu.Lock()
	c.app = app
	c.mu.Unlock()
	return app, nil
}

// RepoInstallation returns the app's installation that covers OWNER/REPO
// (GET /repos/{owner}/{repo}/installation). When GitHub answers 404 the error says the app is
// not installed on OWNER/REPO (or cannot see it) with the link to install it when known, and
// IsNotFound reports true for it.
func (c *Client) RepoInstallation(ctx context.Context, owner, repo string) (*Installation, error) {
	if err := checkName("owner", owner); err != nil {
		return nil, err
	}
	if err := checkName("repository", repo); err != nil {
		return nil, err
	}
	inst, err := c.getInstallation(ctx, "/repos/"+url.PathEscape(owner)+"/"+url.PathEscape(repo)+"/installation")
	if IsNotFound(err) {
		return nil, explain(err, "the GitHub App is not installed on %s/%s (or cannot see it)%s",
			owner, repo, c.installHint(ctx))
	}
	return inst, err
}

// UserInstallation returns the app's installation on the account OWNER, a user or an
// organization (GET /users/{owner}/installation). When GitHub answers 404 the error says the app
// is not installed on the account, with the link to install it when known, and IsNotFound
// reports true for it.
func (c *Client) UserInstallation(ctx context.Context, owner string) (*Installation, error) {
	if err := checkName("owner", owner); err != nil {
		return nil, err
	}
	inst, err := c.getInstallation(ctx, "/users/"+url.PathEscape(owner)+"/installation")
	if IsNotFound(err) {
		return nil, explain(err, "the GitHub App is not installed on the account %s (or the account does not exist)%s",
			owner, c.installHint(ctx))
	}
	return inst, err
}

func (c *Client) getInstallation(ctx context.Context, path string) (*Installation, error) {
	r := request{method: http.MethodGet, path: path, auth: authApp}
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	var v installationJSON
	if err := decode(r, resp, &v); err != nil {
		return nil, err
	}
	if v.ID == 0 {
		return nil, fmt.Errorf("GitHub's answer to GET %s has no installation id", path)
	}
	inst := v.installation()
	return &inst, nil
}

// installHint returns ": install it at LINK" using the app's html_url, fetching GET /app when it
// is not known yet, or "" when the link cannot be learnt (quickly).
func (c *Client) installHint(ctx context.Context) string {
	c.mu.Lock()
	app := c.app
	c.mu.Unlock()
	if app == nil {
		sub, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		var err error
		if app, err = c.App(sub); err != nil {
			return ""
		}
	}
	if link := installLink(app); link != "" {
		return ": install it at " + link
	}
	return ""
}

func installLink(app *App) string {
	if app == nil || app.HTMLURL == "" {
		return ""
	}
	return strings.TrimRight(app.HTMLURL, "/") + "/installations/new"
}

// maxInstallationPages bounds pagination (100 per page).
const maxInstallationPages = 100

// Installations returns every installation of the app (GET /app/installations, 100 per page,
// following Link rel="next"). It fails when a next-page link points outside BaseURL (the JWT is
// never sent elsewhere) and on any failed page.
func (c *Client) Installations(ctx context.Context) ([]Installation, error) {
	base := c.baseURL()
	path := "/app/installations?per_page=100"
	var all []Installation
	for page := 1; ; page++ {
		r := request{method: http.MethodGet, path: path, auth: authApp}
		resp, err := c.do(ctx, r)
		if err != nil {
			return nil, err
		}
		var v []installationJSON
		if err := decode(r, resp, &v); err != nil {
			return nil, err
		}
		for i := range v {
			all = append(all, v[i].installation())
		}
		next := nextLink(resp.header.Values("Link"))
		if next == "" {
			return all, nil
		}
		if page >= maxInstallationPages {
			return nil, fmt.Errorf("GitHub listed more than %d pages of installations; giving up", maxInstallationPages)
		}
		rel, ok := relativeTo(base, next)
		if !ok {
			return nil, fmt.Errorf("GitHub's next-page link for the installations points outside %s; not following it", base)
		}
		path = rel
	}
}

// relativeTo returns link's path and query relative to base ("/app/installations?page=2"), and
// false when link is not under base (another scheme, host, port or path).
func relativeTo(base, link string) (string, bool) {
	b, err := url.Parse(base)
	if err != nil {
		return "", false
	}
	l, err := url.Parse(link)
	if err != nil || !strings.EqualFold(l.Scheme, b.Scheme) || !strings.EqualFold(l.Host, b.Host) || l.User != nil {
		return "", false
	}
	rest, ok := strings.CutPrefix(l.EscapedPath(), strings.TrimRight(b.EscapedPath(), "/")+"/")
	if !ok {
		return "", false
	}
	rel := "/" + rest
	if l.RawQuery != "" {
		rel += "?" + l.RawQuery
	}
	return rel, true
}

// nextLink returns the URL with rel="next" from Link header values, or "".
func nextLink(values []string) string {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			segs := strings.Split(part, ";")
			target := strings.TrimSpace(segs[0])
			if !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			for _, p := range segs[1:] {
				k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
					continue
				}
				for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(val), `"`)) {
					if strings.EqualFold(rel, "next") {
						return target[1 : len(target)-1]
					}
				}
			}
		}
	}
	return ""
}

// FindInstallation maps a request to an installation (SPEC "Mapping", steps 2-4): with repo it
// asks for OWNER/REPO's installation, else with owner for the account's, else it lists the
// app's installations and takes the only one. With no installation the error wraps
// ErrNoInstallations and gives the install link when known; with several it wraps
// ErrSeveralInstallations, names them, and says to set `credential.useHttpPath true` or pass
// --owner. 404s are explained as RepoInstallation and UserInstallation do.
func (c *Client) FindInstallation(ctx context.Context, owner, repo string) (*Installation, error) {
	switch {
	case repo != "":
		return c.RepoInstallation(ctx, owner, repo)
	case owner != "":
		return c.UserInstallation(ctx, owner)
	}
	all, err := c.Installations(ctx)
	if err != nil {
		return nil, err
	}
	switch len(all) {
	case 1:
		return &all[0], nil
	case 0:
		return nil, explain(ErrNoInstallations, "the GitHub App has no installations%s", c.installHint(ctx))
	}
	names := make([]string, 0, len(all))
	for _, in := range all {
		names = append(names, in.Account.Login)
	}
	sort.Strings(names)
	return nil, &SeveralInstallationsError{Accounts: names, Host: hostOfAPI(c.baseURL())}
}

// CreateToken mints an installation access token (POST /app/installations/{id}/access_tokens),
// limited to req's repositories and permissions when given (empty fields are left out of the
// body). Minting is retried like any call: a token minted but lost in transit simply expires.
// A 422 error says which repositories or permissions GitHub would not grant; a 404 says the
// installation does not exist (IsNotFound reports true, so a cached mapping can be dropped).
func (c *Client) CreateToken(ctx context.Context, installationID int64, req TokenRequest) (*Token, error) {
	if installationID <= 0 {
		return nil, fmt.Errorf("invalid installation id %d", installationID)
	}
	for _, name := range req.Repositories {
		if err := checkName("repository", name); err != nil {
			return nil, err
		}
	}
	body := struct {
		Repositories []string          `json:"repositories,omitempty"`
		Permissions  map[string]string `json:"permissions,omitempty"`
	}{req.Repositories, req.Permissions}
	path := "/app/installations/" + strconv.FormatInt(installationID, 10) + "/access_tokens"
	r := request{method: http.MethodPost, path: path, body: body, auth: authApp}
	resp, err := c.do(ctx, r)
	if err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) && err == error(apiErr) {
			switch apiErr.StatusCode {
			case http.StatusUnprocessableEntity:
				return nil, explainMintRefusal(apiErr, installationID, req)
			case http.StatusNotFound:
				return nil, explain(apiErr, "installation %d of the GitHub App was not found (was the app uninstalled?): %s",
					installationID, apiErr.Message)
			}
		}
		return nil, err
	}
	if resp.status != http.StatusCreated && resp.status != http.StatusOK {
		return nil, fmt.Errorf("GitHub answered %d instead of 201 to POST %s", resp.status, path)
	}
	var v struct {
		Token               string            `json:"token"`
		ExpiresAt           time.Time         `json:"expires_at"`
		Permissions         map[string]string `json:"permissions"`
		RepositorySelection string            `json:"repository_selection"`
		Repositories        []struct {
			FullName string `json:"full_name"`
		} `json:"repositories"`
	}
	if err := decode(r, resp, &v); err != nil {
		return nil, err
	}
	if v.Token == "" {
		return nil, fmt.Errorf("GitHub's answer to POST %s has no token", path)
	}
	if v.ExpiresAt.IsZero() {
		return nil, fmt.Errorf("GitHub's answer to POST %s has no expires_at", path)
	}
	t := &Token{Token: v.Token, ExpiresAt: v.ExpiresAt, Permissions: v.Permissions, RepositorySelection: v.RepositorySelection}
	for _, repo := range v.Repositories {
		t.Repositories = append(t.Repositories, repo.FullName)
	}
	return t, nil
}

// explainMintRefusal turns a 422 on mint into a sentence naming what was asked for.
func explainMintRefusal(apiErr *APIError, installationID int64, req TokenRequest) error {
	msg := strings.ToLower(apiErr.Message)
	repos := strings.Join(req.Repositories, ", ")
	perms := formatPermissions(req.Permissions)
	switch {
	case strings.Contains(msg, "repositor") && repos != "":
		return explain(apiErr, "GitHub would not grant a token for repository %s: installation %d cannot access it "+
			"(not selected for the app, or it does not exist) (GitHub: %s)", repos, installationID, apiErr.Message)
	case strings.Contains(msg, "permission") && perms != "":
		return explain(apiErr, "GitHub would not grant a token with permissions %s: installation %d was not granted "+
			"them, or a name is wrong (GitHub: %s)", perms, installationID, apiErr.Message)
	}
	var asked []string
	if repos != "" {
		asked = append(asked, "repositories "+repos)
	}
	if perms != "" {
		asked = append(asked, "permissions "+perms)
	}
	what := "a token"
	if len(asked) > 0 {
		what = "a token for " + strings.Join(asked, " with ")
	}
	return explain(apiErr, "GitHub would not grant %s on installation %d: %s", what, installationID, apiErr.Message)
}

func formatPermissions(p map[string]string) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+":"+p[k])
	}
	return strings.Join(parts, ",")
}

// RevokeToken revokes an installation access token (DELETE /installation/token, authenticated
// with the token itself; GitHub answers 204). A token that has already expired or been revoked
// gives an error saying so (401).
func (c *Client) RevokeToken(ctx context.Context, token string) error {
	if token == "" {
		return errors.New("no token to revoke")
	}
	r := request{method: http.MethodDelete, path: "/installation/token", auth: authToken, token: token}
	resp, err := c.do(ctx, r)
	if err != nil {
		return err
	}
	if resp.status != http.StatusNoContent && resp.status != http.StatusOK {
		return fmt.Errorf("GitHub answered %d instead of 204 to DELETE /installation/token", resp.status)
	}
	return nil
}

// checkName rejects owner or repository names that would change the request path.
func checkName(what, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("no %s name given", what)
	case name == "." || name == "..":
		return fmt.Errorf("invalid %s name %q", what, name)
	case strings.ContainsAny(name, "/\\?#\x00\r\n"):
		return fmt.Errorf("invalid %s name %q", what, oneLine(name, 100))
	}
	return nil
}
