// Command git-credential-ghapp-full is the full git-credential-ghapp, a git credential helper
// that authenticates git to GitHub as a GitHub App: for each request it finds the app's
// installation, and hands git a cached or freshly minted installation token scoped to the
// repository asked for. git runs the front, git-credential-ghapp (cmd/git-credential-ghapp),
// which answers what the token cache can and hands everything else to this binary, installed
// beside it or in ../libexec/git-credential-ghapp/.
//
// Usage as git runs it:
//
//	git config --global credential.https://github.com.helper 'ghapp --app-id 123 --key-file ~/.config/git-credential-ghapp/123.pem'
//	git config --global credential.https://github.com.useHttpPath true
//
// Commands for people: token, setup, status, revoke, installations, doctor, version (see --help).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/harden"
	opts "github.com/git-credential-ghapp/git-credential-ghapp/internal/options"
)

func main() {
	harden.Process() // first: no core dump or same-user ptrace holds the key or a token
	// What the front has already waited for locks; nothing this process runs inherits it.
	waited := opts.LockWaited(os.Getenv)
	os.Unsetenv(opts.LockWaitedVar)
	os.Exit(run(context.Background(), os.Args[1:], &env{
		stdin:      os.Stdin,
		stdout:     os.Stdout,
		stderr:     os.Stderr,
		getenv:     os.Getenv,
		lockWaited: waited,
		heldLock:   heldLock(),
	}))
}

// env is what a command may touch of the outside world; tests give it buffers.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// lockWaited is how long the front waited for other processes' cache locks before it
	// handed this request over: the broker waits only for the rest of the budget.
	lockWaited time.Duration
	// heldLock is the cache lock the front took for this request and handed over, or nil.
	heldLock *os.File
}

// errorf prints one line on stderr, prefixed with the program's name.
func (e *env) errorf(format string, args ...any) {
	msg := appauth.Redact(fmt.Sprintf(format, args...)) // a secret never reaches stderr, whatever quoted it
	fmt.Fprintf(e.stderr, "git-credential-ghapp: %s\n", oneLine(msg))
}

// oneLine folds a message into a single line, so every failure is one line on stderr.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }), "; ")
}

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// command is one subcommand: it receives the global options and its own arguments.
type command struct {
	summary string
	run     func(ctx context.Context, e *env, o *options, args []string) int
}

// commands lists every subcommand other than git's helper operations.
var commands = map[string]command{
	"version":       {"print the version and build information", runVersion},
	"token":         {"print a token for OWNER/REPO (for GH_TOKEN, curl, CI steps)", runToken},
	"setup":         {"check the key with GitHub, store it, and configure git to use the app", runSetup},
	"status":        {"list the cached tokens (never the tokens themselves)", runStatus},
	"revoke":        {"revoke cached tokens at GitHub and forget them (CI post-step)", runRevoke},
	"installations": {"list the app's installations", runInstallations},
	"doctor":        {"check the key, GitHub, the clock, git and its configuration", runDoctor},
	"key":           {"import or remove the app's private key in the OS keyring", runKey},
	"identity":      {"print the app's bot user as git wants it for commits", runIdentity},
}

func run(ctx context.Context, args []string, e *env) int {
	o, rest, err := parseOptions(args, e.getenv)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(e.stdout)
		return exitOK
	}
	if errors.Is(err, opts.ErrVersion) {
		return runVersion(ctx, e, nil, nil)
	}
	if err != nil {
		e.errorf("%v (see git-credential-ghapp --help)", err)
		return exitUsage
	}
	if len(rest) == 0 {
		printUsage(e.stderr)
		return exitUsage
	}
	op, args := rest[0], rest[1:]
	if (op == "get" || op == "store" || op == "erase") && len(args) > 0 { // global options after it
		if o, args, err = parseOptions(append(o.Flags[:len(o.Flags):len(o.Flags)], args...), e.getenv); err != nil || len(args) > 0 {
			return helperUsageError(e, op, args, err)
		}
	}
	if o.Trace {
		for _, n := range o.Notes {
			tracer(e)(n)
		}
	}
	switch op {
	case "get", "store", "erase":
		return runHelper(ctx, e, o, op)
	case "help":
		return runHelp(ctx, e, o, args)
	}
	if c, ok := commands[op]; ok {
		return c.run(ctx, e, o, args)
	}
	if fromGit(e.stdin) {
		// git may grow new helper operations: an unknown one is not ours to answer.
		return exitOK
	}
	e.errorf("unknown command %s%s (see git-credential-ghapp --help)", appauth.Shown(op), didYouMean(op))
	return exitUsage
}
