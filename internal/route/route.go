// Package route decides, for one app on one host, what a credential request asks for: the
// target it names, the repository set and installation a token for it must cover, the cache key
// of that token, and whether the token cached under that key may be handed out. Both the front
// that git starts for every request and the full helper that mints use it, so they cannot
// disagree about a cache hit.
//
// It reads the cache and nothing else: no key, no network, no subprocess.
package route

import (
	"fmt"
	"strings"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/cache"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/redact"
)

// Scope says how much of an installation a token covers.
type Scope string

const (
	// ScopeAuto covers the one repository the request names, or the whole installation when
	// the request names none.
	ScopeAuto Scope = ""
	// ScopeRepo covers the one repository the request names; a request without one is an error.
	ScopeRepo Scope = "repo"
	// ScopeInstallation covers every repository of the installation.
	ScopeInstallation Scope = "installation"
)

// ParseScope accepts "", "repo" or "installation".
func ParseScope(s string) (Scope, error) {
	switch Scope(strings.ToLower(s)) {
	case ScopeAuto:
		return ScopeAuto, nil
	case ScopeRepo:
		return ScopeRepo, nil
	case ScopeInstallation:
		return ScopeInstallation, nil
	}
	return "", fmt.Errorf("unknown scope %s: use repo or installation", redact.Shown(s))
}

// DefaultMinLifetime is how long a cached token must still live to be handed out, so that a
// long clone or push does not lose its credential half way.
const DefaultMinLifetime = 10 * time.Minute

// Target is what a request names: an owner and a repository, an owner alone, or nothing.
type Target struct {
	Owner string
	Repo  string
}

// String returns "OWNER/REPO", "OWNER" or "(no repository)", for messages.
func (t Target) String() string {
	switch {
	case t.Repo != "":
		return t.Owner + "/" + t.Repo
	case t.Owner != "":
		return t.Owner
	}
	return "(no repository)"
}

// TargetFromPath reads the owner and repository from the path git sends (without a leading
// slash): "acme/app.git", "acme/app", "acme/app.git/info/lfs" all name acme/app; "acme" names
// the owner alone; "" names nothing. A path whose first two parts are not valid GitHub names
// is an error.
func TargetFromPath(path string) (Target, error) {
	path = strings.Trim(path, "/")
	if path == "" {
		return Target{}, nil
	}
	parts := strings.SplitN(path, "/", 3)
	owner := parts[0]
	if !validName(owner, false) {
		return Target{}, fmt.Errorf("the path %q does not start with a GitHub account name", truncate(path))
	}
	if len(parts) == 1 {
		return Target{Owner: owner}, nil
	}
	repo := strings.TrimSuffix(parts[1], ".git")
	if !validName(repo, true) {
		return Target{}, fmt.Errorf("the path %q does not name a GitHub repository", truncate(path))
	}
	return Target{Owner: owner, Repo: repo}, nil
}

// ParseTarget reads "OWNER/REPO", "OWNER" or a URL such as https://github.com/OWNER/REPO.git.
func ParseTarget(s string) (Target, error) {
	if i := strings.Index(s, "://"); i >= 0 {
		rest := s[i+3:]
		j := strings.IndexByte(rest, '/')
		if j < 0 {
			return Target{}, nil
		}
		s = rest[j+1:]
	}
	return TargetFromPath(s)
}

// validName reports whether s can be a GitHub account (repo false) or repository (repo true)
// name: letters, digits, '-' and '_' (repositories also '.'), at most 100 characters. Account
// names take '_' because GitHub gives one to every Enterprise Managed User and, on GHE.com, to
// every user namespace: the IdP's normalised name, '_', and the enterprise's short code, e.g.
// octo_acme (docs: "Username considerations for external authentication"). Anything that could
// change the request's path ('/', '\', '%', "..", control characters) stays refused.
func validName(s string, repo bool) bool {
	if s == "" || len(s) > 100 || s == "." || s == ".." {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		case repo && c == '.':
		default:
			return false
		}
	}
	return true
}

func truncate(s string) string {
	if redact.LooksLikeKey(s) {
		return "(not shown: it looks like a private key or a token)"
	}
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// Route holds what decides the cache key of a request: the app, the host, and the options that
// shape a token's scope.
type Route struct {
	Host           string            // the git host served, e.g. "github.com"
	AppID          string            // the App ID or Client ID
	InstallationID int64             // when non-zero, every request uses this installation
	Owner          string            // the account to use when a request names no repository
	Scope          Scope             // how much a token covers
	Permissions    map[string]string // narrows the token; nil = the installation's permissions
	MinLifetime    time.Duration     // 0 = DefaultMinLifetime
}

// minLifetime is how long a cached token must still live to be handed out.
func (r *Route) minLifetime() time.Duration {
	if r.MinLifetime > 0 {
		return r.MinLifetime
	}
	return DefaultMinLifetime
}

// Repositories returns the repository set a token for t must cover (nil = all).
func (r *Route) Repositories(t Target) ([]string, error) {
	switch r.Scope {
	case ScopeInstallation:
		return nil, nil
	case ScopeRepo:
		if t.Repo == "" {
			return nil, fmt.Errorf("--scope repo needs the repository in the request: run `git config --global credential.https://%s.useHttpPath true`, or use --scope installation", r.Host)
		}
	}
	if t.Repo == "" {
		return nil, nil
	}
	return []string{t.Repo}, nil // as git names it; the cache key ignores case
}

// MaxRepositories is how many repositories one token can be asked for by name: GitHub's limit
// for POST /app/installations/{installation_id}/access_tokens ("Up to 500 repositories can be
// listed in this manner": github/docs, src/rest/data/fpt-2022-11-28/apps.json).
const MaxRepositories = 500

// RepositorySet returns the repository set a token for t and names must cover (nil = all):
// names are repositories under t.Owner that the token must cover together (t.Repo among them);
// with no names it is Repositories(t). Names are kept as given, the first spelling of each
// (the cache key ignores case), so that a token for {app,lib} is cached under exactly that set.
// More than MaxRepositories names is an error, as is a name that cannot be a repository.
func (r *Route) RepositorySet(t Target, names []string) ([]string, error) {
	if len(names) == 0 || r.Scope == ScopeInstallation {
		return r.Repositories(t)
	}
	var set []string
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if !validName(n, true) {
			return nil, fmt.Errorf("%s is not a GitHub repository name", redact.Shown(truncate(n)))
		}
		if k := strings.ToLower(n); !seen[k] {
			seen[k] = true
			set = append(set, n)
		}
	}
	if len(set) > MaxRepositories {
		return nil, fmt.Errorf("%d repositories named: GitHub mints a token for at most %d by name; ask for several tokens, or pass --scope installation for one that covers every repository of the installation", len(set), MaxRepositories)
	}
	return set, nil
}

// MappingTarget names the discovery question for t, as the cache stores its answer.
func (r *Route) MappingTarget(t Target) (target, owner, repo string) {
	switch {
	case t.Repo != "":
		return "repo:" + strings.ToLower(t.Owner+"/"+t.Repo), t.Owner, t.Repo
	case t.Owner != "":
		return "owner:" + strings.ToLower(t.Owner), t.Owner, ""
	case r.Owner != "":
		return "owner:" + strings.ToLower(r.Owner), r.Owner, ""
	}
	return "app", "", ""
}

// CachedInstallation returns the installation for t without asking GitHub: the configured
// installation, else the one store holds for t's discovery question (see MappingTarget).
func (r *Route) CachedInstallation(store *cache.Store, t Target, now time.Time) (id int64, ok bool) {
	if r.InstallationID != 0 {
		return r.InstallationID, true
	}
	if store == nil {
		return 0, false
	}
	target, _, _ := r.MappingTarget(t)
	return store.Installation(r.Host, r.AppID, target, now)
}

// Key returns the cache key of a token of installation id covering repos (nil = all).
func (r *Route) Key(id int64, repos []string) cache.Key {
	return cache.Key{Host: r.Host, App: r.AppID, InstallationID: id, Repositories: repos, Permissions: r.Permissions}
}

// CachedToken is the one decision "is this cached token good for this request": the entry
// store holds for exactly key's scope, when it has at least MinLifetime left at now.
func (r *Route) CachedToken(store *cache.Store, key cache.Key, now time.Time) (*cache.Entry, bool) {
	if store == nil {
		return nil, false
	}
	return store.Get(key, now, r.minLifetime())
}

// Forget drops every cached token equal to token (git's erase of a token it saw rejected), and
// reports whether there was one. It does not revoke the token at GitHub, and records nothing:
// the audit log is the full helper's (the front hands a request over when one is configured).
func (r *Route) Forget(store *cache.Store, token string) (bool, error) {
	if store == nil {
		return false, nil
	}
	return store.Forget(token)
}
