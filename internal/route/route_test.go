package route

import (
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
