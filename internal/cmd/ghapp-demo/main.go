// Command ghapp-demo shows git-credential-ghapp at work to someone who has no GitHub App: it
// builds the helper, starts a fake GitHub on 127.0.0.1 (with an app installed on an organisation
// that has a private repository), configures a throwaway git to use the helper exactly as the
// README says, clones, commits and pushes through it, and shows the git configuration, the
// helper's answer (token redacted) and every API call GitHub saw. Nothing outside a temporary
// directory is read or changed: not your ~/.gitconfig, not your keyring, not the network.
//
// Usage, from the repository:
//
//	go run ./internal/cmd/ghapp-demo [-keep]
//
// -keep leaves the temporary directory in place (the fake GitHub still stops). It exits 1 when
// a step fails.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ghapp-demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keep := fs.Bool("keep", false, "keep the temporary directory (git config, clone, cache) for a look around")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./internal/cmd/ghapp-demo [-keep]\n\nClones and pushes through git-credential-ghapp against a fake GitHub on 127.0.0.1.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ghapp-demo: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if _, err := demo(ctx, stdout, Options{Keep: *keep}); err != nil {
		fmt.Fprintf(stderr, "ghapp-demo: %v\n", err)
		return 1
	}
	return 0
}
