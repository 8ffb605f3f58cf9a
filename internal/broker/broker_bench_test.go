package broker

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth"
	"github.com/git-credential-ghapp/git-credential-ghapp/cache"
	"github.com/git-credential-ghapp/git-credential-ghapp/credential"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/route"
)

// BenchmarkBrokerCachedToken measures what one cached `get` costs inside the process: a new
// Broker (as each git-credential-ghapp process makes), the cache directory check, the cached
// installation mapping and the cached token. It must never build a GitHub client.
func BenchmarkBrokerCachedToken(b *testing.B) {
	for _, tc := range []struct {
		name           string
		installationID int64 // as --installation-id gives it; 0 = the mapping comes from the cache
	}{
		{"mapping-cached", 0},
		{"installation-id", 5001},
	} {
		b.Run(tc.name, func(b *testing.B) {
			const host, app = "github.com", "123"
			dir := filepath.Join(b.TempDir(), cache.DirName)
			store, err := cache.Open(dir)
			if err != nil {
				b.Fatal(err)
			}
			now := time.Now()
			if err := store.PutInstallation(host, app, "repo:acme/app", 5001, now); err != nil {
				b.Fatal(err)
			}
			token := "ghs_" + strings.Repeat("x", 516) // GitHub's long format
			key := cache.Key{Host: host, App: app, InstallationID: 5001, Repositories: []string{"app"}}
			entry := &cache.Entry{Key: key, Token: token, ExpiresAt: now.Add(time.Hour), CreatedAt: now,
				Permissions: map[string]string{"contents": "write", "metadata": "read"}, RepositorySelection: "selected", Repositories: []string{"acme/app"}}
			if err := store.Put(entry); err != nil {
				b.Fatal(err)
			}
			req := &credential.Request{Protocol: "https", Host: host, Path: "acme/app.git"}
			noClient := func() (*appauth.Client, error) { return nil, errors.New("the cached path built a GitHub client") }
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				br := &Broker{Route: route.Route{Host: host, AppID: app, InstallationID: tc.installationID}, CacheDir: dir, API: noClient}
				c, err := br.Get(ctx, req)
				if err != nil {
					b.Fatal(err)
				}
				if c.Password != token {
					b.Fatal("the cached get returned another token")
				}
			}
		})
	}
}
