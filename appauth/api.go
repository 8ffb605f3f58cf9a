package appauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
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
	// MovedRepositoryID is set by RepoInstallation when GitHub redirected the repository's
	// name (it was renamed or transferred: GitHub answers 301 to
	// /repositories/ID/installation): the repository's id, by which a token for it must be
	// minted (TokenRequest.RepositoryIDs), since the old name no longer names it.
	MovedRepositoryID int64
}

// Enterprise reports whether the installation is on an enterprise account. Such an
// installation grants no organization or repository permissions (docs: "Installing a GitHub
// App on your enterprise"), so it can never serve git.
func (i *Installation) Enterprise() bool {
	return i.TargetType == "Enterprise" || i.Account.Type == "Enterprise"
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
	// Repositories are repository names without the owner; empty (with RepositoryIDs empty)
	// means every repository the installation can access.
	Repositories []string
	// RepositoryIDs are repository ids (GitHub's repository_ids), for a repository whose name
	// moved; they add to Repositories.
	RepositoryIDs []int64
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
	path := "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(repo) + "/installation"
	inst, final, err := c.getInstallation(ctx, path)
	if err == nil && final != path {
		// Followed a redirect: GitHub moves a renamed or transferred repository's
		// installation to /repositories/{id}/installation (301 in GitHub's REST description).
		id, ok := movedRepositoryID(final)
		if !ok {
			return nil, fmt.Errorf("GitHub redirected GET %s to %s, which names no repository id", path, final)
		}
		inst.MovedRepositoryID = id
	}
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
	inst, _, err := c.getInstallation(ctx, "/users/"+url.PathEscape(owner)+"/installation")
	if IsNotFound(err) {
		return nil, explain(err, "the GitHub App is not installed on the account %s (or the account does not exist)%s",
			owner, c.installHint(ctx))
	}
	return inst, err
}

// getInstallation asks for an installation and returns it with the path that answered (path,
// or where GitHub redirected it).
func (c *Client) getInstallation(ctx context.Context, path string) (*Installation, string, error) {
	r := request{method: http.MethodGet, path: path, auth: authApp}
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, "", err
	}
	var v installationJSON
	if err := decode(r, resp, &v); err != nil {
		return nil, "", err
	}
	if v.ID == 0 {
		return nil, "", fmt.Errorf("GitHub's answer to GET %s has no installation id", path)
	}
	inst := v.installation()
	return &inst, pathOnly(resp.path), nil
}

// movedRepositoryID reads ID from "/repositories/ID/installation".
func movedRepositoryID(path string) (int64, bool) {
	rest, ok := strings.CutPrefix(path, "/repositories/")
	if !ok {
		return 0, false
	}
	idText, ok := strings.CutSuffix(rest, "/installation")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	return id, err == nil && id > 0
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
	listed, err := c.Installations(ctx)
	if err != nil {
		return nil, err
	}
	// Installations on an enterprise account grant no repository access: never a candidate.
	all := make([]Installation, 0, len(listed))
	for _, in := range listed {
		if !in.Enterprise() {
			all = append(all, in)
		}
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
	for _, id := range req.RepositoryIDs {
		if id <= 0 {
			return nil, fmt.Errorf("invalid repository id %d", id)
		}
	}
	body := struct {
		Repositories  []string          `json:"repositories,omitempty"`
		RepositoryIDs []int64           `json:"repository_ids,omitempty"`
		Permissions   map[string]string `json:"permissions,omitempty"`
	}{req.Repositories, req.RepositoryIDs, req.Permissions}
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

// explainMintRefusal turns a 422 on mint into a sentence naming what was asked for. Only
// GitHub's own "not granted" wordings are reported as such: "There is at least one repository
// that does not exist or is not accessible to the parent installation." and "The permissions
// requested are not granted to this installation." Any other 422 ("Validation failed, or the
// endpoint has been spammed" in GitHub's REST description, or a request too complex for the
// repositories asked) is said as GitHub's refusal of the request, not as a missing grant.
func explainMintRefusal(apiErr *APIError, installationID int64, req TokenRequest) error {
	msg := strings.ToLower(apiErr.Message)
	names := slices.Clone(req.Repositories)
	for _, id := range req.RepositoryIDs {
		names = append(names, "#"+strconv.FormatInt(id, 10))
	}
	repos := strings.Join(names, ", ")
	if len(names) > 5 {
		// A token may be asked for up to 500 repositories: name a few, and how many in all.
		repos = fmt.Sprintf("%s, ... (%d in all)", strings.Join(names[:5], ", "), len(names))
	}
	perms := formatPermissions(req.Permissions)
	switch {
	case repos != "" && (strings.Contains(msg, "not accessible to the parent installation") ||
		strings.Contains(msg, "repositor") && strings.Contains(msg, "does not exist")):
		if len(names) > 1 {
			return explain(apiErr, "GitHub would not grant a token for repositories %s: installation %d cannot access at least one of them "+
				"(not selected for the app, or it does not exist) (GitHub: %s)", repos, installationID, apiErr.Message)
		}
		return explain(apiErr, "GitHub would not grant a token for repository %s: installation %d cannot access it "+
			"(not selected for the app, or it does not exist) (GitHub: %s)", repos, installationID, apiErr.Message)
	case perms != "" && strings.Contains(msg, "permission") && strings.Contains(msg, "not granted"):
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
	return explain(apiErr, "GitHub refused the request for %s on installation %d (422: %s); this is not a missing grant: "+
		"try again later, or ask for fewer repositories", what, installationID, apiErr.Message)
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

// FreshTokenWait is how long after minting GitHub may still refuse a new token: it is
// replicated to GitHub's data centres within seconds, and until then GitHub answers 401 ("we
// can't find your token yet") or, for a token limited to repositories, 403. octokit/auth-app.js
// retries a 401 for up to 5 seconds after minting (src/hook.ts, issue #65, PR #168).
const FreshTokenWait = 5 * time.Second

// AwaitToken makes sure GitHub accepts a token it has just minted, with one cheap request
// authenticated by the token (GET /installation/repositories?per_page=1). While GitHub refuses
// it (401, or 403 for a token limited to repositories) it asks again, with short waits, until
// FreshTokenWait after mintedAt (on the Client's clock) or ctx's deadline. It returns nil once
// GitHub accepts the token, and otherwise the last error; the caller decides what to do with a
// token GitHub never accepted in that time (the request that failed is not a proof the token is
// bad: only GitHub's replication can be waited out here).
func (c *Client) AwaitToken(ctx context.Context, token string, mintedAt time.Time) error {
	if token == "" {
		return errors.New("no token to check")
	}
	wait := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		r := request{method: http.MethodGet, path: "/installation/repositories?per_page=1", auth: authToken, token: token}
		_, err := c.do(ctx, r)
		if err == nil {
			if attempt > 1 {
				c.trace("GitHub accepts the new token after %d checks (%s after minting)", attempt,
					c.now().Sub(mintedAt).Round(time.Millisecond))
			}
			return nil
		}
		var apiErr *APIError
		if !errors.As(err, &apiErr) || (apiErr.StatusCode != http.StatusUnauthorized && apiErr.StatusCode != http.StatusForbidden) ||
			isRateLimitError(apiErr) {
			return err
		}
		left := FreshTokenWait - c.now().Sub(mintedAt)
		if left <= 0 || !c.fits(ctx, min(wait, left), FreshTokenWait) {
			return err
		}
		c.trace("GitHub does not accept the new token yet (%d); checking again in %s", apiErr.StatusCode, min(wait, left))
		if err := c.sleep(ctx, min(wait, left)); err != nil {
			return err
		}
		wait = min(2*wait, time.Second)
	}
}

// isRateLimitError reports whether an *APIError is a rate limit (which waiting for a fresh token
// must not mistake for replication lag).
func isRateLimitError(e *APIError) bool {
	return e.StatusCode == http.StatusTooManyRequests || e.RetryAfter > 0 ||
		strings.Contains(strings.ToLower(e.Message), "rate limit")
}
