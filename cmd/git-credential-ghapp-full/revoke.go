package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth"
	"github.com/git-credential-ghapp/git-credential-ghapp/cache"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/audit"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/broker"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/route"
)

const revokeUsage = `usage: git-credential-ghapp [OPTIONS] revoke (--all | OWNER/REPO)

Revokes cached installation tokens at GitHub (DELETE /installation/token) and forgets them, so
that nothing minted on this machine outlives the job: the post-step of a CI job.

  --all        every cached token for the host (--hostname), of the app when --app-id is given
  OWNER/REPO   the tokens that reach that repository: those minted for it, and tokens for its
               whole installation

One of them is required. A token that has already expired, or that GitHub no longer accepts,
is just forgotten. A failure to revoke one token does not stop the others; it stays cached (run
revoke again) and the exit status is 1. One line per token, never the token itself.

Examples:
  git-credential-ghapp revoke --all
  git-credential-ghapp --hostname ghe.example.com revoke acme/app
` + globalsNote

// revokeTimeout bounds the revocation of one token, retries included.
const revokeTimeout = 15 * time.Second

func runRevoke(ctx context.Context, e *env, o *options, args []string) int {
	f := newFlags("revoke", revokeUsage, true)
	all := f.fs.Bool("all", false, "")
	operands, o, code, ok := f.parse(e, o, args)
	if !ok {
		return code
	}
	if tooManyOperands(e, "revoke", operands, 1) {
		return exitUsage
	}
	var target route.Target
	switch {
	case *all && len(operands) == 1:
		e.errorf("revoke: give --all or OWNER/REPO, not both")
		return exitUsage
	case !*all && len(operands) == 0:
		e.errorf("revoke: say which tokens: --all, or OWNER/REPO (see git-credential-ghapp revoke --help)")
		return exitUsage
	case len(operands) == 1:
		var err error
		target, err = route.ParseTarget(operands[0])
		if err == nil && target.Repo == "" {
			err = fmt.Errorf("%s does not name a repository (OWNER/REPO)", appauth.Shown(operands[0]))
		}
		if err != nil {
			e.errorf("revoke: %v", err)
			return exitUsage
		}
	}

	o, err := withConfiguredApp(e, o)
	if err != nil {
		e.errorf("revoke: %v", err)
		return exitUsage
	}
	entries, err := cachedEntries(o.CacheDir)
	if err != nil {
		e.errorf("revoke: %v", err)
		return exitFail
	}
	var store *cache.Store
	if len(entries) > 0 {
		if store, err = cache.Open(o.CacheDir); err != nil {
			e.errorf("revoke: %v", err)
			return exitFail
		}
	}
	now := time.Now()
	var chosen []cache.Entry
	for _, en := range entries {
		if !strings.EqualFold(en.Key.Host, o.Hostname) || (o.AppID != "" && !strings.EqualFold(en.Key.App, o.AppID)) {
			continue
		}
		if *all || reaches(store, &en, target, now) {
			chosen = append(chosen, en)
		}
	}
	if len(chosen) == 0 {
		what := "for " + o.Hostname
		if target.Repo != "" {
			what = "that reach " + target.String() + " on " + o.Hostname
		}
		fmt.Fprintf(e.stdout, "no cached tokens %s\n", what)
		return exitOK
	}

	client := newClient(e, o) // revoking authenticates with each token itself: no key needed
	alog := auditLog(e, o)
	failed := 0
	for i := range chosen {
		en := &chosen[i]
		name := describeEntry(en)
		if !en.ExpiresAt.After(now) {
			if _, err := store.Forget(en.Token); err != nil {
				e.errorf("revoke: cannot forget the expired token of %s: %v", name, err)
				failed++
				continue
			}
			fmt.Fprintf(e.stdout, "forgot   %s: it had expired\n", name)
			alog.Record(revokeEvent(en, "expired"))
			continue
		}
		tctx, cancel := context.WithTimeout(ctx, revokeTimeout)
		err := client.RevokeToken(tctx, en.Token)
		cancel()
		verb, outcome := "revoked  %s\n", "revoked"
		if err != nil && isRejectedToken(err) {
			verb, outcome, err = "forgot   %s: GitHub no longer accepted it (revoked or expired already)\n", "rejected", nil
		}
		if err != nil {
			e.errorf("revoke: cannot revoke the token of %s: %v; it stays cached, run revoke again", name, err)
			failed++
			continue
		}
		if _, err := store.Forget(en.Token); err != nil {
			e.errorf("revoke: revoked the token of %s but cannot forget it: %v", name, err)
			failed++
			continue
		}
		fmt.Fprintf(e.stdout, verb, name)
		alog.Record(revokeEvent(en, outcome))
	}
	if failed > 0 {
		return exitFail
	}
	return exitOK
}

// revokeEvent is the audit line of a revoked (or, as outcome says, only forgotten) token.
func revokeEvent(en *cache.Entry, outcome string) audit.Event {
	ev := broker.AuditEvent(audit.EventRevoke, en)
	ev.Outcome = outcome
	return ev
}

// reaches reports whether a cached token gives access to target's repository: it was minted for
// that repository, or for the whole installation that (as discovery found and the cache
// remembers) covers it.
func reaches(store *cache.Store, en *cache.Entry, target route.Target, now time.Time) bool {
	full := strings.ToLower(target.Owner + "/" + target.Repo)
	if len(en.Key.Repositories) > 0 {
		if len(en.Repositories) > 0 {
			return slices.ContainsFunc(en.Repositories, func(r string) bool { return strings.EqualFold(r, full) })
		}
		return slices.ContainsFunc(en.Key.Repositories, func(r string) bool { return strings.EqualFold(r, target.Repo) })
	}
	id, ok := store.Installation(en.Key.Host, en.Key.App, "repo:"+full, now)
	return ok && id == en.Key.InstallationID
}

// isRejectedToken reports whether GitHub refused a token as invalid (401): it is dead already.
func isRejectedToken(err error) bool {
	var ae *appauth.APIError
	return errors.As(err, &ae) && ae.StatusCode == http.StatusUnauthorized
}
