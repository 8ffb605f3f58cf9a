package broker

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/route"
)

// A renamed repository: discovery follows GitHub's 301, the token is minted by the repository's
// id and cached under "#ID", and a later process finds it without a request. The old name's
// token is never handed out for the new name's scope, nor the reverse.
func TestRenamedRepositoryMintsByID(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.srv.RenameRepo("acme/app", "acme/app2"); err != nil {
		t.Fatal(err)
	}
	e, err := f.broker().Token(ctx, route.Target{Owner: "acme", Repo: "app"})
	if err != nil {
		t.Fatal(err)
	}
	mints := f.srv.Mints()
	if len(mints) != 1 || !reflect.DeepEqual(mints[0].Repositories, []string{"app2"}) {
		t.Fatalf("mints %+v; want one for the renamed repository", mints)
	}
	if len(e.Key.Repositories) != 1 || e.Key.Repositories[0][0] != '#' || !reflect.DeepEqual(e.Repositories, []string{"acme/app2"}) {
		t.Fatalf("cache key %v, granted %v", e.Key.Repositories, e.Repositories)
	}
	f.srv.ResetCounters()
	b := f.broker(func(b *Broker) {
		b.API = func() (*appauth.Client, error) { return nil, errors.New("the cached path must not build a client") }
	})
	again, err := b.Token(ctx, route.Target{Owner: "acme", Repo: "app"})
	if err != nil || again.Token != e.Token || f.srv.APICalls() != 0 {
		t.Fatalf("cached Token = %v, %v (%d API calls)", again, err, f.srv.APICalls())
	}
	byName, err := f.broker().Token(ctx, route.Target{Owner: "acme", Repo: "app2"})
	if err != nil || byName.Token == e.Token {
		t.Fatalf("new name: %v, %v; want its own token", byName, err)
	}
	if m := f.srv.Mints(); len(m) != 1 || !reflect.DeepEqual(m[0].Repositories, []string{"app2"}) {
		t.Fatalf("mints %+v", m)
	}
}

// GitHub refuses a fresh token until it has replicated it: the broker hands it out only once
// GitHub accepts it.
func TestFreshTokenWaitsForReplication(t *testing.T) {
	f := newFixture(t)
	f.srv.SetReplicationLag(1500 * time.Millisecond)
	start := time.Now()
	e, err := f.broker().Token(context.Background(), route.Target{Owner: "acme", Repo: "app"})
	if err != nil {
		t.Fatal(err)
	}
	checks := f.srv.Count("GET /installation/repositories")
	if checks < 2 {
		t.Fatalf("%d checks of the new token; want the broker to ask until GitHub accepted it", checks)
	}
	// Handed out only after the lag: the fake now accepts it.
	if time.Since(start) < 1500*time.Millisecond {
		t.Fatalf("token handed out after %s, before GitHub accepted it", time.Since(start))
	}
	if e.Token == "" || f.srv.Count(mintRoute) != 1 {
		t.Fatalf("%d mints", f.srv.Count(mintRoute))
	}
}
