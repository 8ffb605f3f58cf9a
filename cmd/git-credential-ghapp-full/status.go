package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/cache"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/route"
)

const statusUsage = `usage: git-credential-ghapp status [--json]

Lists the installation tokens in the cache, for every host and app: the host, the app, the
installation, what the token covers (one repository, or the whole installation), its
permissions, and how long it has left. It never prints a token. A token with less than
--min-lifetime left (10m by default) is no longer handed out; the next request mints a new one.

  --json    print a JSON array instead, one object per token: host, app_id, installation_id,
            scope ("repositories" or "installation"), repositories, permissions,
            repository_selection, expires_at, seconds_left, expired

Examples:
  git-credential-ghapp status
  git-credential-ghapp status --json | jq '.[] | select(.expired | not)'
`

// statusJSON is one token as status --json prints it: everything but the secret.
type statusJSON struct {
	Host                string            `json:"host"`
	AppID               string            `json:"app_id"`
	InstallationID      int64             `json:"installation_id"`
	Scope               string            `json:"scope"`
	Repositories        []string          `json:"repositories"`
	Permissions         map[string]string `json:"permissions"`
	RepositorySelection string            `json:"repository_selection"`
	ExpiresAt           string            `json:"expires_at"`
	SecondsLeft         int64             `json:"seconds_left"`
	Expired             bool              `json:"expired"`
}

func runStatus(_ context.Context, e *env, o *options, args []string) int {
	f := newFlags("status", statusUsage, false)
	asJSON := f.fs.Bool("json", false, "")
	operands, o, code, ok := f.parse(e, o, args)
	if !ok {
		return code
	}
	if tooManyOperands(e, "status", operands, 0) {
		return exitUsage
	}
	entries, err := cachedEntries(o.CacheDir)
	if err != nil {
		e.errorf("status: %v", err)
		return exitFail
	}
	now := time.Now()
	if *asJSON {
		list := make([]statusJSON, 0, len(entries))
		for i := range entries {
			list = append(list, statusOutput(&entries[i], now))
		}
		out, err := json.MarshalIndent(list, "", "  ")
		if err != nil {
			e.errorf("status: %v", err)
			return exitFail
		}
		fmt.Fprintf(e.stdout, "%s\n", out)
		return exitOK
	}
	if len(entries) == 0 {
		fmt.Fprintf(e.stdout, "no cached tokens (cache: %s)\n", o.CacheDir)
		return exitOK
	}
	minLeft := o.MinLifetime
	if minLeft == 0 {
		minLeft = route.DefaultMinLifetime
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "HOST\tAPP\tINSTALLATION\tSCOPE\tPERMISSIONS\tLEFT")
	for i := range entries {
		en := &entries[i]
		left := en.ExpiresAt.Sub(now)
		leftText := humanLeft(left)
		if left > 0 && left < minLeft {
			leftText += " (too little to reuse)"
		}
		perms := formatPermissions(en.Permissions)
		if perms == "" {
			perms = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%s\n", en.Key.Host, en.Key.App, en.Key.InstallationID, scopeText(en), perms, leftText)
	}
	w.Flush()
	return exitOK
}

// cachedEntries returns every token in the cache at dir, without creating the directory when
// it does not exist yet. A directory the cache refuses (readable by others, not ours) is an
// error that says how to fix it.
func cachedEntries(dir string) ([]cache.Entry, error) {
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	store, err := cache.Open(dir)
	if err != nil {
		return nil, err
	}
	return store.List(), nil
}

// scopeText says what a cached token covers: its repositories as OWNER/REPO, or "installation"
// for a token that covers every repository of the installation.
func scopeText(en *cache.Entry) string {
	if len(en.Key.Repositories) == 0 {
		return "installation"
	}
	return strings.Join(entryRepositories(en), ",")
}

// entryRepositories names the repositories a repository-scoped token covers: GitHub's full names
// when it listed them, else the names it was asked for.
func entryRepositories(en *cache.Entry) []string {
	if len(en.Repositories) > 0 {
		return en.Repositories
	}
	return en.Key.Repositories
}

// describeEntry names a cached token in one line, without the secret.
func describeEntry(en *cache.Entry) string {
	scope := "all repositories"
	if len(en.Key.Repositories) > 0 {
		scope = strings.Join(entryRepositories(en), ",")
	}
	return "app " + en.Key.App + " installation " + strconv.FormatInt(en.Key.InstallationID, 10) + " (" + scope + ")"
}

func statusOutput(en *cache.Entry, now time.Time) statusJSON {
	left := en.ExpiresAt.Sub(now)
	out := statusJSON{
		Host:                en.Key.Host,
		AppID:               en.Key.App,
		InstallationID:      en.Key.InstallationID,
		Scope:               "installation",
		Repositories:        []string{},
		Permissions:         en.Permissions,
		RepositorySelection: en.RepositorySelection,
		ExpiresAt:           en.ExpiresAt.UTC().Format(time.RFC3339),
		SecondsLeft:         max(int64(left.Seconds()), 0),
		Expired:             left <= 0,
	}
	if len(en.Key.Repositories) > 0 {
		out.Scope = "repositories"
		out.Repositories = entryRepositories(en)
	}
	if out.Permissions == nil {
		out.Permissions = map[string]string{}
	}
	return out
}
