package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth"
	"github.com/git-credential-ghapp/git-credential-ghapp/cache"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/broker"
)

// options are the settings shared by every command: flags before the command, each with an
// environment variable; a flag wins over its variable.
type options struct {
	AppID          string
	KeyFile        string
	KeyPEM         string // GHAPP_PRIVATE_KEY: the PEM itself (no flag: keys never go in argv)
	Hostname       string
	APIURL         string
	Owner          string
	InstallationID int64
	Permissions    map[string]string
	Scope          broker.Scope
	MinLifetime    time.Duration
	CacheDir       string
	Trace          bool

	flags []string // the flags these options were parsed from, for commands that take more
}

const usageText = `usage: git-credential-ghapp [OPTIONS] COMMAND [ARGS]

A git credential helper that authenticates git to GitHub as a GitHub App.

git runs it with one of the helper operations: get, store, erase.
  git config --global credential.https://github.com.helper 'ghapp --app-id 123 --key-file ~/.config/git-credential-ghapp/123.pem'
  git config --global credential.https://github.com.useHttpPath true

Examples:
  git-credential-ghapp setup --app-id 123 --key-file ~/Downloads/my-app.private-key.pem
  GH_TOKEN=$(git-credential-ghapp --app-id 123 token acme/app) gh pr list --repo acme/app
  git-credential-ghapp doctor

Options (each also an environment variable; the flag wins):
  --app-id ID              GHAPP_APP_ID            the App ID or Client ID
  --key-file PATH          GHAPP_PRIVATE_KEY_FILE  the app's private key (PEM)
                           GHAPP_PRIVATE_KEY       the PEM itself (also with \n escapes, or base64)
  --hostname HOST          GHAPP_HOSTNAME          the git host served (default github.com)
  --api-url URL            GHAPP_API_URL           REST base (default derived from the host)
  --owner NAME             GHAPP_OWNER             account to use when the request names no repository
  --installation-id N      GHAPP_INSTALLATION_ID   skip installation discovery
  --permissions LIST       GHAPP_PERMISSIONS       narrow the token, e.g. contents:read,metadata:read
  --scope repo|installation GHAPP_SCOPE            repo: one repository (default when named); installation: all
  --min-lifetime DURATION  GHAPP_MIN_LIFETIME      reuse a cached token only with this much life left (default 10m)
                           GHAPP_TRACE=1           log requests and decisions to stderr, secrets redacted
With no key given, the key is read from the OS keyring (service git-credential-ghapp, account = app id).

Commands:
`

func printUsage(w io.Writer) {
	var b strings.Builder
	b.WriteString(usageText)
	for _, name := range sortedCommandNames() {
		fmt.Fprintf(&b, "  %-14s %s\n", name, commands[name].summary)
	}
	b.WriteString("\nRun 'git-credential-ghapp COMMAND --help' for a command's options and examples.\n")
	io.WriteString(w, b.String())
}

// parseOptions reads the global flags (which stop at the first non-flag argument, the command)
// and fills what they leave unset from the environment.
func parseOptions(args []string, getenv func(string) string) (*options, []string, error) {
	fs := flag.NewFlagSet("git-credential-ghapp", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		appID, keyFile, hostname, apiURL, owner, instID, perms, scope, minLife string
	)
	fs.StringVar(&appID, "app-id", "", "")
	fs.StringVar(&keyFile, "key-file", "", "")
	fs.StringVar(&hostname, "hostname", "", "")
	fs.StringVar(&apiURL, "api-url", "", "")
	fs.StringVar(&owner, "owner", "", "")
	fs.StringVar(&instID, "installation-id", "", "")
	fs.StringVar(&perms, "permissions", "", "")
	fs.StringVar(&scope, "scope", "", "")
	fs.StringVar(&minLife, "min-lifetime", "", "")
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	pick := func(flagValue, name string) string {
		if flagValue != "" {
			return flagValue
		}
		return strings.TrimSpace(getenv(name))
	}
	o := &options{
		AppID:    pick(appID, "GHAPP_APP_ID"),
		KeyFile:  expandHome(pick(keyFile, "GHAPP_PRIVATE_KEY_FILE"), getenv),
		KeyPEM:   getenv("GHAPP_PRIVATE_KEY"),
		Hostname: strings.ToLower(pick(hostname, "GHAPP_HOSTNAME")),
		APIURL:   strings.TrimRight(pick(apiURL, "GHAPP_API_URL"), "/"),
		Owner:    pick(owner, "GHAPP_OWNER"),
		Trace:    truthy(getenv("GHAPP_TRACE")),
	}
	if o.Hostname == "" {
		o.Hostname = "github.com"
	}
	if strings.ContainsAny(o.Hostname, "/@ \t") {
		return nil, nil, fmt.Errorf("--hostname %q is not a host name (write it without https:// or a path)", o.Hostname)
	}
	if o.APIURL == "" {
		o.APIURL = appauth.APIBaseURL(o.Hostname)
	} else if !strings.HasPrefix(o.APIURL, "https://") {
		return nil, nil, fmt.Errorf("--api-url %q must start with https://", o.APIURL)
	}
	if s := pick(instID, "GHAPP_INSTALLATION_ID"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return nil, nil, fmt.Errorf("--installation-id %q is not a positive number", s)
		}
		o.InstallationID = id
	}
	var err error
	if o.Permissions, err = broker.ParsePermissions(pick(perms, "GHAPP_PERMISSIONS")); err != nil {
		return nil, nil, err
	}
	if o.Scope, err = broker.ParseScope(pick(scope, "GHAPP_SCOPE")); err != nil {
		return nil, nil, err
	}
	if s := pick(minLife, "GHAPP_MIN_LIFETIME"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 || d > time.Hour {
			return nil, nil, fmt.Errorf("--min-lifetime %q must be a duration between 0s and 1h, e.g. 10m", s)
		}
		o.MinLifetime = d
	}
	o.CacheDir = cache.DefaultDir()
	o.flags = args[:len(args)-len(fs.Args())]
	return o, fs.Args(), nil
}

func truthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "0", "false", "no", "off":
		return false
	}
	return true
}

// expandHome turns a leading "~/" into the home directory, for paths that come from the
// environment rather than a shell.
func expandHome(p string, getenv func(string) string) string {
	if p == "~" || strings.HasPrefix(p, "~/") || strings.HasPrefix(p, `~\`) {
		home := getenv("HOME")
		if home == "" {
			home, _ = os.UserHomeDir()
		}
		if home != "" {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}

// fromGit reports whether stdin carries a credential request, as it does when git runs the
// helper; a person at a terminal, or a script with no input, gets a usage error instead.
func fromGit(stdin io.Reader) bool {
	if f, ok := stdin.(*os.File); ok {
		if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice != 0 {
			return false
		}
	}
	line := make(chan []byte, 1)
	go func() {
		l, _ := bufio.NewReaderSize(io.LimitReader(stdin, 4096), 4096).ReadSlice('\n')
		line <- l
	}()
	select {
	case l := <-line:
		return bytes.IndexByte(l, '=') > 0
	case <-time.After(time.Second):
		return false
	}
}

var errNoAppID = errors.New("no app id: pass --app-id or set GHAPP_APP_ID")
