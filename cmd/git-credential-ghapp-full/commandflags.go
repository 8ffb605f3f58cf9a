package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth"
	opts "github.com/git-credential-ghapp/git-credential-ghapp/internal/options"
)

// globalFlagNames are the global options a command may also take after its name, e.g.
// `git-credential-ghapp setup --app-id 123 --key-file app.pem`.
var globalFlagNames = opts.FlagNames()

// globalsNote ends the usage of every command that takes the global options after its name.
const globalsNote = `
The global options (see git-credential-ghapp --help) may come before the command or after it.
`

// cmdFlags is a command's flag set: its own flags and, when it talks to GitHub, the global
// options again, so that they may follow the command's name.
type cmdFlags struct {
	fs      *flag.FlagSet
	name    string
	usage   string
	globals map[string]*string
}

// newFlags returns the flag set of the command name; usage is its --help text.
func newFlags(name, usage string, withGlobals bool) *cmdFlags {
	f := &cmdFlags{fs: flag.NewFlagSet(name, flag.ContinueOnError), name: name, usage: usage}
	f.fs.SetOutput(io.Discard)
	if withGlobals {
		f.globals = map[string]*string{}
		for _, n := range globalFlagNames {
			f.globals[n] = f.fs.String(n, "", "")
		}
	}
	return f
}

// parse reads args, where flags and operands may come in any order and "--" ends the flags.
// On -h or --help it prints the usage on stdout; on a bad flag it prints one line on stderr.
// Either way ok is false and the command returns code. Otherwise it returns the operands and
// the options: o with the global options given after the command's name merged over it (a flag
// wins over what came before the command or from the environment).
func (f *cmdFlags) parse(e *env, o *options, args []string) (operands []string, merged *options, code int, ok bool) {
	for {
		err := f.fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			io.WriteString(e.stdout, f.usage)
			return nil, nil, exitOK, false
		}
		if err != nil {
			e.errorf("%s: %s (see git-credential-ghapp %s --help)", f.name, asTyped(err.Error(), args), f.name)
			return nil, nil, exitUsage, false
		}
		rest := f.fs.Args()
		consumed := len(args) - len(rest)
		if len(rest) == 0 || (consumed > 0 && args[consumed-1] == "--") {
			operands = append(operands, rest...)
			break
		}
		operands = append(operands, rest[0])
		args = rest[1:]
	}
	merged, err := f.merge(e, o)
	if err != nil {
		e.errorf("%s: %v (see git-credential-ghapp %s --help)", f.name, err, f.name)
		return nil, nil, exitUsage, false
	}
	return operands, merged, exitOK, true
}

// merge returns o with the global options given after the command applied: it parses the flags
// given before the command followed by those given after it, so a later flag wins and each is
// validated exactly as before the command; the environment fills the rest.
func (f *cmdFlags) merge(e *env, o *options) (*options, error) {
	var after []string
	f.fs.Visit(func(fl *flag.Flag) {
		if _, ok := f.globals[fl.Name]; ok {
			after = append(after, "--"+fl.Name+"="+fl.Value.String())
		}
	})
	if len(after) == 0 {
		return o, nil
	}
	merged, _, err := parseOptions(append(slices.Clip(o.Flags), after...), e.getenv)
	return merged, err
}

// formatPermissions writes permissions as "name:level,..." in name order ("" for none).
func formatPermissions(p map[string]string) string {
	names := make([]string, 0, len(p))
	for k := range p {
		names = append(names, k)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = k + ":" + p[k]
	}
	return strings.Join(parts, ",")
}

// tooManyOperands reports a usage error when a command got more operands than it takes.
func tooManyOperands(e *env, name string, operands []string, max int) bool {
	if len(operands) <= max {
		return false
	}
	e.errorf("%s: unexpected argument %s (see git-credential-ghapp %s --help)", name, appauth.Shown(operands[max]), name)
	return true
}

// humanLeft describes how long until an expiry: "59m12s", "1h00m", or "expired".
func humanLeft(d time.Duration) string {
	if d <= 0 {
		return "expired"
	}
	s := int64(d.Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%dm%02ds", s/60, s%60)
}
