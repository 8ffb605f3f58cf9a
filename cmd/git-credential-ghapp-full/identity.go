package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/gitconfig"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/route"
)

const identityUsage = `usage: git-credential-ghapp [OPTIONS] identity [--json]

Prints the app's bot user as git wants it for commits:

  SLUG[bot] <USERID+SLUG[bot]@users.noreply.DOMAIN>

so that GitHub attributes the commits to the app (its name and avatar, "bot" badge). SLUG comes
from GET /app, USERID is the bot user's id from GET /users/SLUG[bot] (not the app id, nor the
installation id). DOMAIN is github.com on github.com, SUBDOMAIN.ghe.com on GitHub Enterprise Cloud
with data residency, and the host name on GitHub Enterprise Server.

  --json    print a JSON object instead: name, email, user_id, app_slug, app_id, host

GET /users/SLUG[bot] is public: it is asked without credentials, and only when GitHub refuses
that (GHES in private mode, the anonymous rate limit) again with an installation token (from the
cache, or minted for --owner's installation or the app's only one).

Examples:
  git-credential-ghapp --app-id 123 identity
  git config user.name "$(git-credential-ghapp identity --json | jq -r .name)"
  git-credential-ghapp setup --commit-identity --app-id 123 --key-file app.pem
` + globalsNote

// identity is the app's bot user as git wants it for commits.
type identity struct {
	Name    string `json:"name"`
	Email   string `json:"email"`
	UserID  int64  `json:"user_id"`
	AppSlug string `json:"app_slug"`
	AppID   int64  `json:"app_id"`
	Host    string `json:"host"`
}

// String is the identity as git prints an author: "NAME <EMAIL>".
func (id identity) String() string { return id.Name + " <" + id.Email + ">" }

func runIdentity(ctx context.Context, e *env, o *options, args []string) int {
	f := newFlags("identity", identityUsage, true)
	asJSON := f.fs.Bool("json", false, "")
	operands, o, code, ok := f.parse(e, o, args)
	if !ok {
		return code
	}
	if tooManyOperands(e, "identity", operands, 0) {
		return exitUsage
	}
	if o.AppID == "" {
		e.errorf("identity: %v", errNoAppID)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, requestDeadline)
	defer cancel()
	client := newClient(e, o)
	app, err := client.App(ctx)
	if err != nil {
		e.errorf("identity: %v", err)
		return exitFail
	}
	id, err := lookupIdentity(ctx, client, app, o.Hostname, installationToken(e, o, client))
	if err != nil {
		e.errorf("identity: %v", err)
		return exitFail
	}
	if !*asJSON {
		fmt.Fprintln(e.stdout, id)
		return exitOK
	}
	out, err := json.MarshalIndent(id, "", "  ")
	if err != nil {
		e.errorf("identity: %v", err)
		return exitFail
	}
	fmt.Fprintf(e.stdout, "%s\n", out)
	return exitOK
}

// installationToken returns a function that gets a token for the default target (--owner's
// installation, or the app's only one) from the cache or by minting, and "" when there is none.
func installationToken(e *env, o *options, client *appauth.Client) func(ctx context.Context) string {
	return func(ctx context.Context) string {
		b, err := newBroker(e, o)
		if err != nil {
			return ""
		}
		b.API = func() (*appauth.Client, error) { return client, nil }
		entry, err := b.Token(ctx, route.Target{})
		if err != nil {
			return ""
		}
		return entry.Token
	}
}

// lookupIdentity asks GitHub for app's bot user and builds the identity. GET /users/{username}
// is public, so it asks without credentials first, and with token(ctx) (when it gives one) only
// if GitHub refuses the anonymous request (GHES in private mode, the anonymous rate limit): no
// token is minted just to read a public page.
func lookupIdentity(ctx context.Context, client *appauth.Client, app *appauth.App, host string, token func(context.Context) string) (identity, error) {
	if app.Slug == "" {
		return identity{}, fmt.Errorf("GitHub's answer to GET /app has no slug")
	}
	login := appauth.BotLogin(app.Slug)
	user, err := client.User(ctx, login, "")
	var apiErr *appauth.APIError
	if errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusUnauthorized || apiErr.StatusCode == http.StatusForbidden || apiErr.StatusCode == http.StatusTooManyRequests) && token != nil {
		if tok := token(ctx); tok != "" {
			user, err = client.User(ctx, login, tok)
		}
	}
	if err != nil {
		return identity{}, err
	}
	if user.Type != "" && user.Type != "Bot" {
		return identity{}, fmt.Errorf("GitHub's user %s is of type %q, not Bot", login, user.Type)
	}
	return identity{
		Name:    login,
		Email:   fmt.Sprintf("%d+%s@%s", user.ID, login, noreplyDomain(host)),
		UserID:  user.ID,
		AppSlug: app.Slug,
		AppID:   app.ID,
		Host:    host,
	}, nil
}

// noreplyDomain is the domain of GitHub's noreply commit addresses for the git host (a port is
// not part of a mail domain):
//   - github.com: users.noreply.github.com (docs: "Setting your commit email address");
//   - SUBDOMAIN.ghe.com (GitHub Enterprise Cloud with data residency): users.noreply.SUBDOMAIN.ghe.com,
//     the tenant's own host, as its notification addresses are @noreply.SUBDOMAIN.ghe.com where
//     github.com's are @noreply.github.com (docs: "About email notifications", Cc address);
//   - any other host (GitHub Enterprise Server): users.noreply.HOSTNAME.
func noreplyDomain(host string) string {
	h := strings.ToLower(host)
	if name, _, err := net.SplitHostPort(h); err == nil {
		h = name
	}
	return "users.noreply." + strings.Trim(h, "[]")
}

// writeCommitIdentity looks up the bot user and writes it as user.name and user.email where setup
// writes the helper (for setup --commit-identity). It reports false after printing the error.
func (s *setup) writeCommitIdentity(ctx context.Context, client *appauth.Client, app *appauth.App) bool {
	var token func(context.Context) string
	if !s.dryRun {
		token = installationToken(s.e, s.o, client)
	}
	id, err := lookupIdentity(ctx, client, app, s.o.Hostname, token)
	if err != nil {
		s.e.errorf("setup: the commit identity: %v", err)
		return false
	}
	entries, err := s.git.Entries(s.loc, `^user\.(name|email)$`, false)
	if err != nil {
		s.e.errorf("setup: %v", err)
		return false
	}
	var changes []gitconfig.Change
	for _, kv := range [][2]string{{"user.name", id.Name}, {"user.email", id.Email}} {
		var have []string
		for _, en := range entries {
			if strings.EqualFold(en.Key, kv[0]) {
				have = append(have, en.Value)
			}
		}
		if len(have) != 1 || have[0] != kv[1] {
			changes = append(changes, gitconfig.Change{Args: []string{"--replace-all", kv[0], kv[1]}})
		}
	}
	switch {
	case len(changes) == 0:
		s.say("%s already commits as %s", s.loc.Name, id)
		return true
	case s.dryRun:
		s.say("would run (dry run, nothing written):")
	default:
		if err := s.git.Apply(s.loc, changes); err != nil {
			s.e.errorf("setup: %v", err)
			return false
		}
		s.say("commits as %s; wrote to %s:", id, s.loc.Name)
	}
	for _, c := range changes {
		s.say("  %s", c.Command(s.loc))
	}
	return true
}

// botIdentityChanges returns the changes that take out a commit identity setup --commit-identity
// wrote: user.name "SLUG[bot]" with user.email "ID+SLUG[bot]@users.noreply.DOMAIN", the pair as
// setup writes it and as no person's identity reads. Any other user.name or user.email, the
// user's own, is left alone.
func botIdentityChanges(entries []gitconfig.Entry) []gitconfig.Change {
	var names, emails []string
	for _, en := range entries {
		switch strings.ToLower(en.Key) {
		case "user.name":
			names = append(names, en.Value)
		case "user.email":
			emails = append(emails, en.Value)
		}
	}
	if len(names) != 1 || len(emails) != 1 {
		return nil
	}
	slug, ok := strings.CutSuffix(names[0], "[bot]")
	local, domain, _ := strings.Cut(emails[0], "@")
	_, login, _ := strings.Cut(local, "+")
	if !ok || slug == "" || login != names[0] || !strings.HasPrefix(domain, "users.noreply.") {
		return nil
	}
	return []gitconfig.Change{{Args: []string{"--unset-all", "user.name"}}, {Args: []string{"--unset-all", "user.email"}}}
}
