// Package gitconfig reads and writes git's configuration for credential helpers: it runs
// `git config` for one file, plans the lines `setup` writes so that running it again changes
// nothing (and `setup --remove` takes exactly those lines out again), and works out which helpers
// git would ask for a URL, so that `doctor` can say what git will do.
package gitconfig

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Location names the configuration file a command reads or writes, as `git config` takes it.
type Location struct {
	// Args are the location options: nil reads every file git reads (system, global, local, in
	// that order) and cannot be written; otherwise {"--global"}, {"--local"} or {"--file", PATH}.
	Args []string
	// Name describes the file in messages, e.g. "global git config".
	Name string
}

// Global is the user's global configuration (~/.gitconfig, or $GIT_CONFIG_GLOBAL).
func Global() Location { return Location{Args: []string{"--global"}, Name: "global git config"} }

// Local is the configuration of the repository in the current directory.
func Local() Location {
	return Location{Args: []string{"--local"}, Name: "this repository's git config"}
}

// File is the configuration file at path.
func File(path string) Location { return Location{Args: []string{"--file", path}, Name: path} }

// Effective reads every file git reads; it cannot be written.
func Effective() Location { return Location{Name: "git config"} }

// Git runs `git config`.
type Git struct {
	// Path is the git binary; "" means "git" from PATH.
	Path string
	// Dir is the working directory (it matters for --local); "" means the current one.
	Dir string
}

// Entry is one configuration line.
type Entry struct {
	// Key is the key as git prints it: section and variable in lower case, the subsection as
	// written, e.g. "credential.https://github.com.usehttppath".
	Key string
	// Value is the value; a bare boolean key ("[x] flag" with no "=") has Value "" and NoValue set.
	Value   string
	NoValue bool
	// Origin is where git read it, e.g. "file:/home/me/.gitconfig", when asked for.
	Origin string
}

// Change is one `git config` invocation: its arguments after the location options.
type Change struct {
	Args []string
}

// Command returns the shell command that makes the change at loc, quoted so that it can be
// pasted into a POSIX shell as is.
func (c Change) Command(loc Location) string {
	words := append([]string{"git", "config"}, loc.Args...)
	words = append(words, c.Args...)
	for i, w := range words {
		words[i] = Quote(w)
	}
	return strings.Join(words, " ")
}

// Error is a failed `git config` run: the arguments and what git said on stderr.
type Error struct {
	Args   []string
	Stderr string
	Err    error
}

func (e *Error) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if msg == "" {
		msg = e.Err.Error()
	}
	msg = strings.TrimPrefix(msg, "fatal: ")
	return fmt.Sprintf("git config %s: %s", strings.Join(e.Args, " "), strings.ReplaceAll(msg, "\n", "; "))
}

func (e *Error) Unwrap() error { return e.Err }

// run runs `git config ARGS...` and returns its stdout. exitCode is git's exit status (0 on
// success, -1 when git could not be started).
func (g Git) run(args ...string) (out []byte, exitCode int, err error) {
	path := g.Path
	if path == "" {
		path = "git"
	}
	cmd := exec.Command(path, append([]string{"config"}, args...)...)
	cmd.Dir = g.Dir
	cmd.Env = ChildEnv(os.Environ())
	cmd.Stdin = nil
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if err == nil {
		return stdout.Bytes(), 0, nil
	}
	code := -1
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	}
	return stdout.Bytes(), code, &Error{Args: args, Stderr: stderr.String(), Err: err}
}

// Entries returns the lines at loc whose key matches the regular expression pattern (as
// `git config --get-regexp` takes it), in the order git reads them, with their origin when
// withOrigin is set. No match, or a file that does not exist, is an empty result, not an error;
// any other failure of git (such as --local outside a repository) is an *Error.
func (g Git) Entries(loc Location, pattern string, withOrigin bool) ([]Entry, error) {
	args := append([]string{}, loc.Args...)
	if withOrigin {
		args = append(args, "--show-origin")
	}
	args = append(args, "-z", "--get-regexp", pattern)
	out, code, err := g.run(args...)
	if code == 1 {
		return nil, nil // nothing matched
	}
	if err != nil {
		if len(loc.Args) == 2 && loc.Args[0] == "--file" {
			if _, serr := os.Stat(loc.Args[1]); errors.Is(serr, os.ErrNotExist) {
				return nil, nil
			}
		}
		return nil, err
	}
	return parseZ(out, withOrigin)
}

// parseZ reads `git config -z` output: [origin NUL] key (LF value | nothing) NUL, repeated.
func parseZ(out []byte, withOrigin bool) ([]Entry, error) {
	fields := strings.Split(string(out), "\x00")
	if len(fields) > 0 && fields[len(fields)-1] == "" {
		fields = fields[:len(fields)-1]
	}
	var entries []Entry
	for i := 0; i < len(fields); i++ {
		var e Entry
		if withOrigin {
			e.Origin = fields[i]
			i++
			if i >= len(fields) {
				return nil, errors.New("git config printed an origin without a key")
			}
		}
		key, value, hasValue := strings.Cut(fields[i], "\n")
		e.Key, e.Value, e.NoValue = key, value, !hasValue
		entries = append(entries, e)
	}
	return entries, nil
}

// ChildEnv returns environ (as os.Environ gives it) without the variables of this tool
// (GHAPP_*), which a child such as git has no use for and some of which carry the private key
// (GHAPP_PRIVATE_KEY) or may (a GHAPP_PRIVATE_KEY_FILE holding PEM text by mistake). Every child
// process this tool starts gets this environment.
func ChildEnv(environ []string) []string {
	env := make([]string, 0, len(environ))
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(strings.ToUpper(name), "GHAPP_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// Apply makes the changes at loc in order, stopping at the first that fails.
func (g Git) Apply(loc Location, changes []Change) error {
	if loc.Args == nil {
		return errors.New("gitconfig: cannot write without a location")
	}
	for _, c := range changes {
		if _, _, err := g.run(append(append([]string{}, loc.Args...), c.Args...)...); err != nil {
			return err
		}
	}
	return nil
}

// URLBool returns the boolean value of key (e.g. "credential.useHttpPath") that git uses for
// url, as `git config --get-urlmatch` finds it in every file git reads; set is false when no
// line applies.
func (g Git) URLBool(key, url string) (value, set bool, err error) {
	out, code, err := g.run("--type=bool", "--get-urlmatch", key, url)
	if code == 1 {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	return strings.TrimSpace(string(out)) == "true", true, nil
}

// Quote returns s quoted for a POSIX shell: as is when it holds only characters a shell leaves
// alone, else in single quotes. The empty string is ”.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_@%+=:,./-", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
