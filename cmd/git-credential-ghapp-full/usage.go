package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	opts "github.com/git-credential-ghapp/git-credential-ghapp/internal/options"
)

// helperUsage is the --help of git's helper operations.
const helperUsage = `usage: git-credential-ghapp [OPTIONS] get|store|erase [OPTIONS]

git runs these with a credential request on standard input (see git-credential(1)):
  get    print a token for the repository the request names, cached or freshly minted
  store  nothing to do: the helper keeps only the tokens it minted itself
  erase  forget the token git reports as rejected (it is not revoked at GitHub)

Example, as git runs it:
  printf 'protocol=https\nhost=github.com\npath=acme/app.git\n\n' | git-credential-ghapp --app-id 123 get
` + globalsNote

// helperUsageError answers what followed get, store or erase when it is not a global option:
// --help prints the operations' usage; anything else is one line on stderr.
func helperUsageError(e *env, op string, operands []string, err error) int {
	switch {
	case errors.Is(err, flag.ErrHelp):
		io.WriteString(e.stdout, helperUsage)
		return exitOK
	case errors.Is(err, opts.ErrVersion):
		return runVersion(context.Background(), e, nil, nil)
	case err != nil:
		e.errorf("%s: %v (see git-credential-ghapp %s --help)", op, err, op)
	default:
		e.errorf("%s: unexpected argument %q (see git-credential-ghapp %s --help)", op, operands[0], op)
	}
	return exitUsage
}

// runHelp prints the usage of the tool, or with a command's name, that command's.
func runHelp(ctx context.Context, e *env, o *options, args []string) int {
	if len(args) == 0 {
		printUsage(e.stdout)
		return exitOK
	}
	name := args[0]
	switch name {
	case "get", "store", "erase":
		io.WriteString(e.stdout, helperUsage)
		return exitOK
	case "help":
		printUsage(e.stdout)
		return exitOK
	}
	if c, ok := commands[name]; ok {
		return c.run(ctx, e, o, []string{"--help"})
	}
	e.errorf("help: unknown command %q%s (see git-credential-ghapp --help)", name, didYouMean(name))
	return exitUsage
}

// didYouMean suggests the command closest to a mistyped one (" (did you mean "status"?)"), or
// returns "" when none is close.
func didYouMean(typed string) string {
	names := append(sortedCommandNames(), "get", "store", "erase", "help")
	best, bestD := "", 3 // at most two edits away
	for _, n := range names {
		if d := editDistance(strings.ToLower(typed), n); d < bestD || (d == bestD && n < best) {
			best, bestD = n, d
		}
	}
	if best == "" || len(typed) < 2 {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance of a and b (adjacent swaps count as two edits).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// asTyped rewrites the flag names in a message of Go's flag package ("flag provided but not
// defined: -verbose") with the dashes the user typed in args ("--verbose").
func asTyped(msg string, args []string) string {
	for _, a := range slices.Backward(args) {
		if !strings.HasPrefix(a, "--") || a == "--" {
			continue
		}
		name, _, _ := strings.Cut(a[2:], "=")
		for _, at := range []string{": -" + name, "flag -" + name, "for -" + name} {
			if i := strings.Index(msg, at); i >= 0 {
				end := i + len(at)
				if end == len(msg) || msg[end] == ':' || msg[end] == ' ' {
					msg = msg[:end-len(name)] + "-" + msg[end-len(name):]
				}
			}
		}
	}
	return msg
}
