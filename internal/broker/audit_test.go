package broker

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/credential"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/audit"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/route"
)

// Many brokers (as many processes) ask for one scope at once with an audit log: one line says
// the token was minted, every other caller's line says it reused that token (found in the cache
// or after waiting for the minter's lock); an erase is one more line; erasing a token this helper
// never handed out writes nothing.
func TestAuditLogMintReuseErase(t *testing.T) {
	f := newFixture(t)
	f.srv.SetLatency(20 * time.Millisecond) // so that the callers overlap
	path := filepath.Join(f.dir, "audit.jsonl")
	withAudit := func(b *Broker) { b.Audit = &audit.Log{Path: path, Warn: func(s string) { t.Error(s) }} }
	// Another scope of the same repository first: the installation is then known, so the callers
	// below all miss the token and queue on its lock, and all but one find the token there.
	readOnly, err := f.broker(withAudit, func(b *Broker) { b.Permissions = map[string]string{"contents": "read"} }).
		Token(context.Background(), route.Target{Owner: "acme", Repo: "app"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 6
	var wg sync.WaitGroup
	tokens := make([]string, n)
	for i := range n {
		wg.Go(func() {
			e, err := f.broker(withAudit).Token(context.Background(), route.Target{Owner: "acme", Repo: "app"})
			if err != nil {
				t.Error(err)
				return
			}
			tokens[i] = e.Token
		})
	}
	wg.Wait()
	if err := f.broker(withAudit).Erase(context.Background(), &credential.Request{Password: "ghs_not-one-of-ours"}); err != nil {
		t.Fatal(err)
	}
	if err := f.broker(withAudit).Erase(context.Background(), &credential.Request{Password: tokens[0]}); err != nil {
		t.Fatal(err)
	}

	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	events := map[string]int{}
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		var rec struct {
			Event        string   `json:"event"`
			Installation int64    `json:"installation"`
			Repositories []string `json:"repositories"`
			HashedToken  string   `json:"hashed_token"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.HashedToken == audit.HashToken(readOnly.Token) {
			events["other scope "+rec.Event]++
			continue
		}
		if rec.HashedToken != audit.HashToken(tokens[0]) || rec.Installation != f.inst.ID || len(rec.Repositories) != 1 || rec.Repositories[0] != "acme/app" {
			t.Fatalf("line %s", sc.Bytes())
		}
		events[rec.Event]++
	}
	if events[audit.EventMint] != 1 || events[audit.EventReuse] != n-1 || events[audit.EventErase] != 1 || events["other scope mint"] != 1 || len(events) != 4 {
		t.Fatalf("events %v; want 1 mint of the other scope, then 1 mint, %d reuse, 1 erase", events, n-1)
	}
}
