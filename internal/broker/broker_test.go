package broker

import (
	"context"
	"crypto"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth"
	"github.com/git-credential-ghapp/git-credential-ghapp/credential"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/fakegithub"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/route"
)

type fixture struct {
	srv  *fakegithub.Server
	app  *fakegithub.App
	inst *fakegithub.Installation
	dir  string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	srv, err := fakegithub.New(fakegithub.Config{Dir: filepath.Join(dir, "fake")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	for _, r := range []string{"acme/app", "acme/lib"} {
		if err := srv.AddRepo(r); err != nil {
			t.Fatal(err)
		}
	}
	app := srv.NewApp("ci-bot")
	inst := srv.Install(app, "acme", "Organization", map[string]string{"contents": "write", "metadata": "read"})
	return &fixture{srv: srv, app: app, inst: inst, dir: dir}
}

func (f *fixture) broker(mutate ...func(*Broker)) *Broker {
	b := &Broker{
		Route:    route.Route{Host: f.srv.Host, AppID: "1001"},
		CacheDir: filepath.Join(f.dir, "cache"),
		API: func() (*appauth.Client, error) {
			return &appauth.Client{
				BaseURL: f.srv.APIURL,
				HTTP:    f.srv.Client(),
				Issuer:  f.app.ClientID,
				Key:     func() (crypto.Signer, error) { return f.app.Key, nil },
			}, nil
		},
	}
	b.AppID = f.app.ClientID
	for _, m := range mutate {
		m(b)
	}
	return b
}

const mintRoute = "POST /app/installations/{id}/access_tokens"

func TestTokenMintsOnceThenServesFromCache(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	e, err := f.broker().Token(ctx, route.Target{Owner: "acme", Repo: "app"})
	if err != nil {
		t.Fatal(err)
	}
	mints := f.srv.Mints()
	if len(mints) != 1 || !reflect.DeepEqual(mints[0].Repositories, []string{"app"}) || mints[0].Permissions != nil {
		t.Fatalf("mint asked for %+v; want exactly repository app, no permissions", mints)
	}
	// A new broker, as a new process: no API call at all.
	f.srv.ResetCounters()
	b := f.broker(func(b *Broker) {
		b.API = func() (*appauth.Client, error) { return nil, errors.New("the cached path must not build a client") }
	})
	e2, err := b.Token(ctx, route.Target{Owner: "ACME", Repo: "App"})
	if err != nil || e2.Token != e.Token {
		t.Fatalf("cached Token = %v, %v", e2, err)
	}
	if n := f.srv.APICalls(); n != 0 {
		t.Fatalf("%d API calls on a cache hit", n)
	}
}

func TestScopes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.broker(func(b *Broker) { b.Scope = route.ScopeInstallation }).Token(ctx, route.Target{Owner: "acme", Repo: "app"}); err != nil {
		t.Fatal(err)
	}
	if m := f.srv.Mints(); m[len(m)-1].Repositories != nil {
		t.Fatalf("installation scope asked for repositories %v", m[len(m)-1].Repositories)
	}
	_, err := f.broker(func(b *Broker) { b.Scope = route.ScopeRepo }).Token(ctx, route.Target{Owner: "acme"})
	if err == nil || !strings.Contains(err.Error(), "useHttpPath") {
		t.Fatalf("repo scope without a repository = %v; want an error naming useHttpPath", err)
	}
	perms := map[string]string{"contents": "read"}
	if _, err := f.broker(func(b *Broker) { b.Permissions = perms }).Token(ctx, route.Target{Owner: "acme", Repo: "lib"}); err != nil {
		t.Fatal(err)
	}
	if m := f.srv.Mints(); !reflect.DeepEqual(m[len(m)-1].Permissions, perms) {
		t.Fatalf("narrowed mint asked for %v", m[len(m)-1].Permissions)
	}
	// The narrowed token is not handed out for the un-narrowed scope, nor the reverse.
	before := len(f.srv.Mints())
	if _, err := f.broker().Token(ctx, route.Target{Owner: "acme", Repo: "lib"}); err != nil {
		t.Fatal(err)
	}
	if len(f.srv.Mints()) != before+1 {
		t.Fatal("a token narrowed to contents:read was reused for the full scope")
	}
}

// An app uninstalled and installed again has a new installation id: the cached mapping's mint
// gets a 404, and the broker looks the installation up again once.
func TestStaleMappingIsRediscovered(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.broker().Token(ctx, route.Target{Owner: "acme", Repo: "app"}); err != nil {
		t.Fatal(err)
	}
	f.srv.Uninstall(f.inst)
	inst2 := f.srv.Install(f.app, "acme", "Organization", map[string]string{"contents": "read"})
	f.srv.ResetCounters()
	e, err := f.broker(func(b *Broker) { b.MinLifetime = 2 * time.Hour }).Token(ctx, route.Target{Owner: "acme", Repo: "app"})
	if err != nil {
		t.Fatal(err)
	}
	if e.Key.InstallationID != inst2.ID {
		t.Fatalf("token for installation %d; want the new %d", e.Key.InstallationID, inst2.ID)
	}
	if got := f.srv.Count("GET /repos/{owner}/{repo}/installation"); got != 1 {
		t.Fatalf("%d discoveries; want 1", got)
	}
}

func TestWithoutCache(t *testing.T) {
	f := newFixture(t)
	b := f.broker(func(b *Broker) { b.CacheDir = "" })
	for i := 0; i < 2; i++ {
		if _, err := b.Token(context.Background(), route.Target{Owner: "acme", Repo: "app"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.srv.Count(mintRoute); got != 2 {
		t.Fatalf("%d mints without a cache; want 2", got)
	}
}

func TestInsecureCacheWarnsAndWorks(t *testing.T) {
	f := newFixture(t)
	dir := filepath.Join(f.dir, "open")
	os.Mkdir(dir, 0o777)
	os.Chmod(dir, 0o777)
	var warned []string
	b := f.broker(func(b *Broker) { b.CacheDir = dir; b.Warn = func(s string) { warned = append(warned, s) } })
	if _, err := b.Token(context.Background(), route.Target{Owner: "acme", Repo: "app"}); err != nil {
		t.Fatal(err)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "chmod 700") {
		t.Fatalf("warnings %q; want one saying chmod 700", warned)
	}
}

func TestGetAndErase(t *testing.T) {
	f := newFixture(t)
	b := f.broker()
	ctx := context.Background()
	c, err := b.Get(ctx, &credential.Request{Protocol: "https", Host: f.srv.Host, Path: "acme/app.git"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Username != "x-access-token" || c.Password == "" || c.PasswordExpiry.IsZero() {
		t.Fatalf("Get = %+v", c)
	}
	if _, err := b.Get(ctx, &credential.Request{Protocol: "https", Host: f.srv.Host, Path: "not a/path"}); err == nil {
		t.Fatal("Get of a bad path succeeded")
	}
	if err := b.Erase(ctx, &credential.Request{Password: c.Password}); err != nil {
		t.Fatal(err)
	}
	c2, err := f.broker().Get(ctx, &credential.Request{Protocol: "https", Host: f.srv.Host, Path: "acme/app.git"})
	if err != nil || c2.Password == c.Password {
		t.Fatalf("after erase Get = %v, %v; want a fresh token", c2, err)
	}
}

// One token for several repositories: minted for exactly that set, and cached under it. It is
// never handed out for a subset or a superset, nor a subset's token for the set.
func TestTokenForRepositorySet(t *testing.T) {
	f := newFixture(t)
	if err := f.srv.AddRepo("acme/tools"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	acme := route.Target{Owner: "acme", Repo: "app"}
	lastMint := func() []string {
		m := f.srv.Mints()
		return m[len(m)-1].Repositories
	}
	set, err := f.broker().TokenFor(ctx, acme, []string{"app", "lib"})
	if err != nil {
		t.Fatal(err)
	}
	if got := lastMint(); !reflect.DeepEqual(got, []string{"app", "lib"}) {
		t.Fatalf("mint asked for %v; want [app lib]", got)
	}
	if !reflect.DeepEqual(set.Repositories, []string{"acme/app", "acme/lib"}) {
		t.Fatalf("token covers %v", set.Repositories)
	}

	// The same set, reordered and in other case, from a new process: the cache, no client.
	cached := f.broker(func(b *Broker) {
		b.API = func() (*appauth.Client, error) { return nil, errors.New("the cached path must not build a client") }
	})
	if e, err := cached.TokenFor(ctx, route.Target{Owner: "ACME", Repo: "lib"}, []string{"lib", "App"}); err != nil || e.Token != set.Token {
		t.Fatalf("reordered set: %v, %v; want the cached token", e, err)
	}

	mints := len(f.srv.Mints())
	for _, c := range []struct {
		names []string
		want  []string
	}{
		{nil, []string{"app"}},                                             // token acme/app
		{[]string{"app"}, []string{"app"}},                                 // the same scope: cached now
		{[]string{"app", "lib", "tools"}, []string{"app", "lib", "tools"}}, // a superset
	} {
		e, err := f.broker().TokenFor(ctx, acme, c.names)
		if err != nil {
			t.Fatal(err)
		}
		if e.Token == set.Token {
			t.Errorf("%v got the {app,lib} token", c.names)
		}
		if got := lastMint(); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v: mint asked for %v; want %v", c.names, got, c.want)
		}
	}
	if n := len(f.srv.Mints()) - mints; n != 2 {
		t.Errorf("%d mints for {app}, {app} again, {app,lib,tools}; want 2", n)
	}
	// The {app} token is cached now; {app,lib} still gets its own.
	if e, err := cached.TokenFor(ctx, acme, []string{"app", "lib"}); err != nil || e.Token != set.Token {
		t.Fatalf("{app,lib} after {app}: %v, %v; want the set's token", e, err)
	}
}
