//go:build unix

package broker

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/git-credential-ghapp/git-credential-ghapp/internal/route"
)

// TestUnusableLockStillAnswers: a lock file that cannot be used (here a link planted where each
// lock belongs) costs the lock, not the answer: the broker discovers and mints without it, and
// the link's target is neither created nor touched.
func TestUnusableLockStillAnswers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	target := route.Target{Owner: "acme", Repo: "app"}
	if _, err := f.broker().Token(ctx, target); err != nil {
		t.Fatal(err)
	}
	cacheDir := filepath.Join(f.dir, "cache")
	files, _ := filepath.Glob(filepath.Join(cacheDir, "*.json"))
	elsewhere := t.TempDir()
	var planted int
	for _, p := range files {
		base := strings.TrimSuffix(filepath.Base(p), ".json")
		if !strings.HasPrefix(base, "token-") && !strings.HasPrefix(base, "installation-") {
			continue
		}
		os.Remove(p) // a miss, so that the next get needs the lock
		if err := os.Symlink(filepath.Join(elsewhere, base), filepath.Join(cacheDir, base+".lock")); err != nil {
			t.Fatal(err)
		}
		planted++
	}
	if planted != 2 {
		t.Fatalf("expected a token and a mapping in the cache, found %v", files)
	}

	var trace []string
	b := f.broker(func(b *Broker) { b.Trace = func(s string) { trace = append(trace, s) } })
	e, err := b.Token(ctx, target)
	if err != nil {
		t.Fatalf("Token with unusable locks: %v", err)
	}
	if e.Token == "" || len(f.srv.Mints()) != 2 {
		t.Fatalf("Token = %+v after %d mints", e, len(f.srv.Mints()))
	}
	if left, _ := os.ReadDir(elsewhere); len(left) != 0 {
		t.Fatalf("the links' targets were created: %v", left)
	}
	if !strings.Contains(strings.Join(trace, "\n"), "without the lock") {
		t.Errorf("the trace does not say the lock was skipped:\n%s", strings.Join(trace, "\n"))
	}
}
