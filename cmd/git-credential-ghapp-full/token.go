package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth"
	"github.com/git-credential-ghapp/git-credential-ghapp/cache"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/route"
)

const tokenUsage = `usage: git-credential-ghapp [OPTIONS] token [OWNER/REPO | URL]... [--json]

Prints an installation access token, found and scoped exactly as for git's requests: for the
repository named (a token for it alone, unless --scope installation). Several repositories of
one account (token OWNER/A OWNER/B ..., at most 500: GitHub's limit) get one token that covers
exactly them, cached under that set. A token for a whole
installation (OWNER alone, or nothing named: --owner's installation or the app's only one) is
given only with --scope installation. A cached token is reused while it has at least
--min-lifetime left. The token alone goes to stdout, followed by a newline.

With no --app-id (nor GHAPP_APP_ID), the app, host and key are those of the helper setup wrote
to git's config.

  --json    print a JSON object instead: token, expires_at, installation_id, permissions,
            repositories, repository_selection, host, app_id

Exit status 1, with one line on stderr, when no token can be had (e.g. the app is not
installed on the repository).

Examples:
  GH_TOKEN=$(git-credential-ghapp --app-id 123 token acme/app) gh pr list --repo acme/app
  git-credential-ghapp --app-id 123 token acme/app acme/lib --json | jq -r .repositories[]
  git-credential-ghapp token --app-id 123 --permissions contents:read https://github.com/acme/app.git
  git-credential-ghapp --app-id 123 token acme/app --json | jq -r .expires_at
` + globalsNote

// tokenJSON is what token --json prints; its field names are a promise to scripts.
type tokenJSON struct {
	Token               string            `json:"token"`
	ExpiresAt           string            `json:"expires_at"`
	InstallationID      int64             `json:"installation_id"`
	Permissions         map[string]string `json:"permissions"`
	Repositories        []string          `json:"repositories"`
	RepositorySelection string            `json:"repository_selection"`
	Host                string            `json:"host"`
	AppID               string            `json:"app_id"`
}

func runToken(ctx context.Context, e *env, o *options, args []string) int {
	f := newFlags("token", tokenUsage, true)
	asJSON := f.fs.Bool("json", false, "")
	operands, o, code, ok := f.parse(e, o, args)
	if !ok {
		return code
	}
	var target route.Target
	var repos []string // several repositories of target.Owner, for one token; nil for one
	for i, op := range operands {
		t, err := parseTokenTarget(op, o.Hostname)
		if err != nil {
			e.errorf("token: %v", err)
			return exitUsage
		}
		if i == 0 {
			target = t
		}
		if len(operands) == 1 {
			break
		}
		if t.Repo == "" {
			e.errorf("token: %s names an account, not a repository: a token for several repositories names each (token OWNER/REPO OWNER/REPO ...)", appauth.Shown(op))
			return exitUsage
		}
		if !strings.EqualFold(t.Owner, target.Owner) {
			e.errorf("token: %s and %s are in different accounts: one token covers repositories of one account (one installation); ask for one token per account", target, t)
			return exitUsage
		}
		repos = append(repos, t.Repo)
	}
	o, err := withConfiguredApp(e, o)
	if err != nil {
		e.errorf("token: %v", err)
		return exitUsage
	}
	if target.Repo == "" && o.Scope != route.ScopeInstallation {
		// Least privilege: a token for every repository of an installation is asked for by name.
		what := "no repository is named"
		if target.Owner != "" {
			what = appauth.Shown(target.Owner) + " names an account, not a repository"
		}
		e.errorf("token: %s: name one (token OWNER/REPO), or pass --scope installation for a token that covers every repository of the installation", what)
		return exitUsage
	}
	b, err := newBroker(e, o)
	if err != nil {
		e.errorf("token: %v", err)
		return exitUsage
	}
	b.API = func() (*appauth.Client, error) {
		c := newClient(e, o)
		c.OnRetry = retryNotice(e)
		return c, nil
	}
	ctx, cancel := context.WithTimeout(ctx, requestDeadline)
	defer cancel()
	entry, err := b.TokenFor(ctx, target, repos)
	var several *appauth.SeveralInstallationsError
	if errors.As(err, &several) {
		// git's configuration plays no part here: name the account.
		e.errorf("token: the GitHub App is installed on %d accounts (%s): name one (token OWNER --scope installation, or --owner OWNER), or a repository (token OWNER/REPO)",
			len(several.Accounts), several.AccountList())
		return exitFail
	}
	if err != nil {
		e.errorf("%v", err)
		return exitFail
	}
	if !*asJSON {
		fmt.Fprintln(e.stdout, entry.Token)
		return exitOK
	}
	out, err := json.MarshalIndent(tokenOutput(entry), "", "  ")
	if err != nil {
		e.errorf("token: %v", err)
		return exitFail
	}
	fmt.Fprintf(e.stdout, "%s\n", out)
	return exitOK
}

// parseTokenTarget reads OWNER/REPO, OWNER or a URL, which must be on the host served: a token
// is never handed out for a URL on another host.
func parseTokenTarget(s, host string) (route.Target, error) {
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return route.Target{}, fmt.Errorf("%s is not a URL", appauth.Shown(s))
		}
		if !strings.EqualFold(u.Host, host) {
			return route.Target{}, fmt.Errorf("%s is not on %s, the host served (pass --hostname %s)", appauth.Shown(s), host, u.Host)
		}
	}
	return route.ParseTarget(s)
}

func tokenOutput(entry *cache.Entry) tokenJSON {
	out := tokenJSON{
		Token:               entry.Token,
		ExpiresAt:           entry.ExpiresAt.UTC().Format(time.RFC3339),
		InstallationID:      entry.Key.InstallationID,
		Permissions:         entry.Permissions,
		Repositories:        entry.Repositories,
		RepositorySelection: entry.RepositorySelection,
		Host:                entry.Key.Host,
		AppID:               entry.Key.App,
	}
	if out.Permissions == nil {
		out.Permissions = map[string]string{}
	}
	if out.Repositories == nil {
		out.Repositories = []string{}
	}
	return out
}

// retryNotice returns an OnRetry for the REST client of a command run by a person: one line on
// stderr, so that a retry is not a silent wait.
func retryNotice(e *env) func(string) {
	return func(msg string) { e.errorf("%s", msg) }
}
