package route

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/cache"
)

// CachedToken is the one decision both binaries make: a token cached for exactly the scope of
// the request, with at least MinLifetime left.
func TestCachedToken(t *testing.T) {
	store, err := cache.Open(t.TempDir() + "/c")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	r := &Route{Host: "github.com", AppID: "1", Permissions: map[string]string{"contents": "read"}}
	key := r.Key(7, []string{"App"})
	if err := store.Put(&cache.Entry{Key: key, Token: "ghs_a", ExpiresAt: now.Add(30 * time.Minute), CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if e, ok := r.CachedToken(store, r.Key(7, []string{"app"}), now); !ok || e.Token != "ghs_a" {
		t.Fatalf("the same scope (repository names ignore case) missed: %v %v", e, ok)
	}
	for name, c := range map[string]struct {
		r   *Route
		key cache.Key
	}{
		"other repositories":        {r, r.Key(7, []string{"lib"})},
		"every repository":          {r, r.Key(7, nil)},
		"other installation":        {r, r.Key(8, []string{"app"})},
		"other permissions":         {&Route{Host: "github.com", AppID: "1"}, (&Route{Host: "github.com", AppID: "1"}).Key(7, []string{"app"})},
		"more life asked than left": {&Route{Host: "github.com", AppID: "1", Permissions: r.Permissions, MinLifetime: 31 * time.Minute}, key},
	} {
		if _, ok := c.r.CachedToken(store, c.key, now); ok {
			t.Errorf("%s: a hit", name)
		}
	}
	if _, ok := r.CachedToken(store, key, now.Add(21*time.Minute)); ok {
		t.Error("a token with 9 minutes left is a hit under the default 10m minimum")
	}
	if _, ok := r.CachedToken(nil, key, now); ok {
		t.Error("no store is a hit")
	}
}

func TestRepositoriesAndMapping(t *testing.T) {
	app := Target{Owner: "Acme", Repo: "App"}
	for _, c := range []struct {
		r      Route
		t      Target
		repos  []string
		target string
		err    bool
	}{
		{Route{}, app, []string{"App"}, "repo:acme/app", false},
		{Route{Scope: ScopeInstallation}, app, nil, "repo:acme/app", false},
		{Route{Scope: ScopeRepo}, Target{Owner: "acme"}, nil, "owner:acme", true},
		{Route{Owner: "Octo"}, Target{}, nil, "owner:octo", false},
		{Route{}, Target{}, nil, "app", false},
	} {
		repos, err := c.r.Repositories(c.t)
		target, _, _ := c.r.MappingTarget(c.t)
		if (err != nil) != c.err || len(repos) != len(c.repos) || (len(repos) == 1 && repos[0] != c.repos[0]) || target != c.target {
			t.Errorf("%+v %v: repos %q, %v, target %q", c.r, c.t, repos, err, target)
		}
	}
}

// A token for several repositories is keyed by exactly that set: the order and the case of the
// names play no part, a name given twice counts once, and a subset or a superset is another key.
func TestRepositorySetKey(t *testing.T) {
	r := &Route{Host: "github.com", AppID: "1"}
	acme := Target{Owner: "acme", Repo: "app"}
	set := func(names ...string) cache.Key {
		t.Helper()
		repos, err := r.RepositorySet(acme, names)
		if err != nil {
			t.Fatal(err)
		}
		return r.Key(7, repos)
	}
	appLib := set("app", "lib")
	if got := set("Lib", "APP", "lib"); got.ID() != appLib.ID() {
		t.Errorf("{Lib,APP,lib} has another key than {app,lib}")
	}
	for name, other := range map[string]cache.Key{
		"a subset":          set("app"),
		"the one-repo form": r.Key(7, mustRepos(t, r, acme)),
		"a superset":        set("app", "lib", "x"),
		"another set":       set("app", "x"),
		"every repository":  r.Key(7, nil),
	} {
		if other.ID() == appLib.ID() {
			t.Errorf("%s has the key of {app,lib}", name)
		}
	}
	if got := set("app", "app"); got.ID() != r.Key(7, mustRepos(t, r, acme)).ID() {
		t.Errorf("{app,app} is not the key of app alone")
	}

	// Through the store: a token cached for {app,lib} is handed out for that set alone, and a
	// token for {app} is not handed out for {app,lib}.
	store, err := cache.Open(t.TempDir() + "/c")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := store.Put(&cache.Entry{Key: appLib, Token: "ghs_set", ExpiresAt: now.Add(time.Hour), CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if e, ok := r.CachedToken(store, set("lib", "app"), now); !ok || e.Token != "ghs_set" {
		t.Errorf("{lib,app} missed the {app,lib} token")
	}
	for _, names := range [][]string{{"app"}, {"lib"}, {"app", "lib", "x"}} {
		if _, ok := r.CachedToken(store, set(names...), now); ok {
			t.Errorf("%v got the {app,lib} token", names)
		}
	}
	if err := store.Put(&cache.Entry{Key: set("app"), Token: "ghs_app", ExpiresAt: now.Add(time.Hour), CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if e, ok := r.CachedToken(store, set("app", "lib"), now); !ok || e.Token != "ghs_set" {
		t.Errorf("{app,lib} got %v, %v; want the set's token", e, ok)
	}
}

func mustRepos(t *testing.T, r *Route, target Target) []string {
	t.Helper()
	repos, err := r.Repositories(target)
	if err != nil {
		t.Fatal(err)
	}
	return repos
}

func TestRepositorySetLimits(t *testing.T) {
	r := &Route{}
	acme := Target{Owner: "acme", Repo: "r0"}
	names := make([]string, MaxRepositories+1)
	for i := range names {
		names[i] = fmt.Sprintf("r%d", i)
	}
	if repos, err := r.RepositorySet(acme, names[:MaxRepositories]); err != nil || len(repos) != MaxRepositories {
		t.Fatalf("%d names: %d repositories, %v", MaxRepositories, len(repos), err)
	}
	_, err := r.RepositorySet(acme, names)
	if err == nil || !strings.Contains(err.Error(), "501 repositories named: GitHub mints a token for at most 500 by name") {
		t.Fatalf("501 names: %v; want GitHub's limit of 500 named", err)
	}
	// The same name 501 times is one repository.
	same := make([]string, MaxRepositories+1)
	for i := range same {
		same[i] = "app"
	}
	if repos, err := r.RepositorySet(acme, same); err != nil || len(repos) != 1 {
		t.Fatalf("one name 501 times: %v, %v", repos, err)
	}
	for _, bad := range []string{"../x", "a/b", "", "a%2Fb"} {
		if _, err := r.RepositorySet(acme, []string{"app", bad}); err == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
	// --scope installation: every repository, whatever is named.
	if repos, err := (&Route{Scope: ScopeInstallation}).RepositorySet(acme, names); err != nil || repos != nil {
		t.Fatalf("installation scope: %v, %v", repos, err)
	}
}

// --scope repo without a repository in the request says how to make git send one, for this
// host only (not every host's useHttpPath).
func TestScopeRepoNeedsARepository(t *testing.T) {
	r := &Route{Host: "ghe.example", AppID: "1", Scope: ScopeRepo}
	_, err := r.Repositories(Target{Owner: "acme"})
	if err == nil || !strings.Contains(err.Error(), "git config --global credential.https://ghe.example.useHttpPath true") {
		t.Fatalf("err = %v", err)
	}
}
