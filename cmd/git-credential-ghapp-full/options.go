package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth"
	opts "github.com/git-credential-ghapp/git-credential-ghapp/internal/options"
)

// options are the settings shared by every command (see package options).
type options = opts.Options

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
`

const usageKeyring = `With no key given, the key is read from the OS keyring (service git-credential-ghapp, account = app id).

Commands:
`

func printUsage(w io.Writer) {
	var b strings.Builder
	b.WriteString(usageText)
	b.WriteString(opts.Usage())
	b.WriteString(usageKeyring)
	for _, name := range sortedCommandNames() {
		fmt.Fprintf(&b, "  %-14s %s\n", name, commands[name].summary)
	}
	b.WriteString("\nRun 'git-credential-ghapp COMMAND --help' for a command's options and examples.\n")
	io.WriteString(w, b.String())
}

// parseOptions reads the global flags (which stop at the first non-flag argument, the command)
// and fills what they leave unset from the environment; the API base, when none applies, is
// derived from the host. For -h and --help it returns flag.ErrHelp, as the commands' own flag
// sets do.
func parseOptions(args []string, getenv func(string) string) (*options, []string, error) {
	o, rest, err := opts.ParseWith(args, getenv, parseURL)
	if errors.Is(err, opts.ErrHelp) {
		return nil, nil, flag.ErrHelp
	}
	if err != nil {
		return nil, nil, err
	}
	if o.APIURL == "" {
		o.APIURL = appauth.APIBaseURL(o.Hostname)
	}
	return o, rest, nil
}

// parseURL reads an API URL with net/url, for the options that the front's plain reader leaves
// to the full helper.
func parseURL(rawURL string) (host string, hasUser, ok bool) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", false, false
	}
	return u.Host, u.User != nil, true
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

// expandHome is opts.ExpandHome.
func expandHome(p string, getenv func(string) string) string { return opts.ExpandHome(p, getenv) }
