package broker

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/internal/route"
)

// TestConcurrentColdGetsDiscoverOnce: many brokers (as many processes) with one empty cache ask
// for the same repository at once; one discovers and mints, the others make no request at all.
func TestConcurrentColdGetsDiscoverOnce(t *testing.T) {
	f := newFixture(t)
	f.srv.SetLatency(20 * time.Millisecond) // so that the callers overlap
	const n = 8
	var wg sync.WaitGroup
	tokens := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			e, err := f.broker().Token(context.Background(), route.Target{Owner: "acme", Repo: "app"})
			errs[i] = err
			if err == nil {
				tokens[i] = e.Token
			}
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if tokens[i] != tokens[0] {
			t.Fatalf("callers got different tokens")
		}
	}
	if d, m, all := f.srv.Count("GET /repos/{owner}/{repo}/installation"), f.srv.Count(mintRoute), f.srv.APICalls(); d != 1 || m != 1 || all != 3 {
		// discovery, mint, and the check that GitHub accepts the new token
		t.Fatalf("%d discoveries, %d mints, %d API calls; want 1, 1, 3", d, m, all)
	}
}
