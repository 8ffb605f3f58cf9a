// Package options reads the global options of git-credential-ghapp (flags before the command,
// each with an environment variable) for both binaries: the front that git starts for every
// request, and the full helper. It links nothing heavy (no network, no TLS, no key handling), so
// that the front stays cheap to start.
//
// Every option is one row of the table All: adding an option is adding a row (and, when the
// value needs a new type, a field of Options).
package options

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/cache"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/redact"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/route"
)

// Options are the settings shared by every command; a flag wins over its variable.
type Options struct {
	AppID          string
	KeyFile        string
	KeyPEM         string // GHAPP_PRIVATE_KEY: the PEM itself (no flag: keys never go in argv)
	Signer         string // --signer, GHAPP_SIGNER: a key store URI; when set, no key is read
	Hostname       string
	APIURL         string // "" when neither --api-url nor GHAPP_API_URL applies: derive it from Hostname
	Owner          string
	InstallationID int64
	Permissions    map[string]string
	Scope          route.Scope
	MinLifetime    time.Duration
	CacheDir       string
	AuditLog       string // --audit-log, GHAPP_AUDIT_LOG: "" = no audit log
	Trace          bool

	// Flags are the arguments these options were parsed from, for commands that take more.
	Flags []string
	// Notes are decisions about the options worth a trace line, such as an ignored variable.
	Notes []string

	parseURL   URLParser // what reads an API URL that is not plain; nil in the front
	apiURLHost string    // the host (and port) of APIURL
}

// URLParser reads an API URL as net/url's Parse does: the URL's host (with its port), whether
// it names a user, and ok false when it does not parse.
type URLParser func(rawURL string) (host string, hasUser, ok bool)

// ErrURLNotRead is returned by Parse for an API URL that is not plain (https://HOST[:PORT][/PATH]
// in letters, digits and -._~/: only), which only a URLParser reads: the front then hands the
// request to the full helper, which parses with one (ParseWith). The front does not link
// net/url, whose package initialisation every cached get would pay.
var ErrURLNotRead = errors.New("the API URL is read by the full helper")

// readURL returns the host of the API URL u and whether it names a user; ok is false when u
// does not parse.
func (o *Options) readURL(u string) (host string, hasUser, ok bool, err error) {
	if host, ok := plainAPIURL(u); ok {
		return host, false, true, nil
	}
	if o.parseURL == nil {
		return "", false, false, ErrURLNotRead
	}
	host, hasUser, ok = o.parseURL(u)
	return host, hasUser, ok, nil
}

// plainAPIURL returns the host (and port) of u when it is an https URL that net/url reads
// without a question: letters, digits and -._~/: only, and at most one colon in its host, before
// a port of digits. Such a URL parses, names no user, and its host is written as it is.
func plainAPIURL(u string) (string, bool) {
	rest, ok := strings.CutPrefix(u, "https://")
	if !ok {
		return "", false
	}
	for i := 0; i < len(rest); i++ {
		switch c := rest[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("-._~/:", c) >= 0:
		default:
			return "", false
		}
	}
	host, _, _ := strings.Cut(rest, "/")
	if _, port, found := strings.Cut(host, ":"); found {
		for i := 0; i < len(port); i++ {
			if port[i] < '0' || port[i] > '9' {
				return "", false
			}
		}
	}
	return host, true
}

// Option is one global option: its flag (without dashes; "" for a variable alone), its
// environment variable, the name of its value (for a variable alone: the value to set, if one
// is fixed) and a line of help, and how a value is applied.
// as is how the user wrote the option ("--hostname", "-hostname" or "GHAPP_HOSTNAME"), for
// messages.
type Option struct {
	Flag, Env, Arg, Help string
	set                  func(o *Options, value, as string) error
}

// All lists the global options in the order --help shows them.
var All = []Option{
	{"app-id", "GHAPP_APP_ID", "ID", "the App ID or Client ID", func(o *Options, v, _ string) error {
		o.AppID = v
		return nil
	}},
	{"key-file", "GHAPP_PRIVATE_KEY_FILE", "PATH", "the app's private key (PEM)", func(o *Options, v, _ string) error {
		o.KeyFile = v // a leading ~ is expanded in Parse
		return nil
	}},
	{"", "GHAPP_PRIVATE_KEY", "", "the PEM itself (also with \\n escapes, or base64)", nil}, // read raw in Parse
	{"signer", "GHAPP_SIGNER", "URI", "sign in a key store instead: awskms:///KEY, ssh-agent:, ... (then no key is read)", func(o *Options, v, _ string) error {
		o.Signer = v
		return nil
	}},
	{"hostname", "GHAPP_HOSTNAME", "HOST", "the git host served (default github.com)", func(o *Options, v, as string) error {
		o.Hostname = strings.ToLower(v)
		if o.Hostname == "" {
			o.Hostname = "github.com"
		}
		if strings.ContainsAny(o.Hostname, "/@ \t") {
			return fmt.Errorf("%s %s is not a host name (write it without https:// or a path)", as, redact.Shown(o.Hostname))
		}
		return nil
	}},
	{"api-url", "GHAPP_API_URL", "URL", "REST base (default derived from the host)", func(o *Options, v, as string) error {
		o.APIURL = strings.TrimRight(v, "/")
		if o.APIURL != "" && !strings.HasPrefix(o.APIURL, "https://") {
			return fmt.Errorf("%s %s must start with https://", as, redact.Shown(o.APIURL))
		}
		if o.APIURL == "" {
			return nil
		}
		host, hasUser, ok, err := o.readURL(o.APIURL)
		if err != nil {
			return err
		}
		if !ok || hasUser {
			return fmt.Errorf("%s %s must be a URL without a user name or password", as, redact.Shown(o.APIURL))
		}
		o.apiURLHost = host
		return nil
	}},
	{"owner", "GHAPP_OWNER", "NAME", "account to use when the request names no repository", func(o *Options, v, _ string) error {
		o.Owner = v
		return nil
	}},
	{"installation-id", "GHAPP_INSTALLATION_ID", "N", "skip installation discovery", func(o *Options, v, as string) error {
		if v == "" {
			return nil
		}
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return fmt.Errorf("%s %s is not a positive number", as, redact.Shown(v))
		}
		o.InstallationID = id
		return nil
	}},
	{"permissions", "GHAPP_PERMISSIONS", "LIST", "narrow the token, e.g. contents:read,metadata:read", func(o *Options, v, _ string) (err error) {
		o.Permissions, err = route.ParsePermissions(v)
		return err
	}},
	{"scope", "GHAPP_SCOPE", "repo|installation", "repo: one repository (default when named); installation: all", func(o *Options, v, _ string) (err error) {
		o.Scope, err = route.ParseScope(v)
		return err
	}},
	{"min-lifetime", "GHAPP_MIN_LIFETIME", "DURATION", "reuse a cached token only with this much life left (default 10m)", func(o *Options, v, as string) error {
		if v == "" {
			return nil
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > time.Hour {
			return fmt.Errorf("%s %s must be a duration between 0s and 1h, e.g. 10m", as, redact.Shown(v))
		}
		o.MinLifetime = d
		return nil
	}},
	{"audit-log", "GHAPP_AUDIT_LOG", "FILE", "append a JSON line per mint, reuse, erase, revoke (never the token)", func(o *Options, v, _ string) error {
		o.AuditLog = v // a leading ~ is expanded in Parse
		return nil
	}},
	{"", "GHAPP_TRACE", "1", "log requests and decisions to stderr, secrets redacted", func(o *Options, v, _ string) error {
		o.Trace = truthy(v)
		return nil
	}},
}

// ErrVersion is returned by Parse for --version: the caller prints the version.
var ErrVersion = errors.New("version asked")

// ErrHelp is returned by Parse for -h and --help: the caller prints the usage. It plays the part
// of flag.ErrHelp, without linking package flag into the front.
var ErrHelp = errors.New("help asked")

// FlagNames returns the names of the global flags, without dashes.
func FlagNames() []string {
	var names []string
	for _, opt := range All {
		if opt.Flag != "" {
			names = append(names, opt.Flag)
		}
	}
	return names
}

// Usage returns the lines of --help that describe the global options.
func Usage() string {
	var b strings.Builder
	for _, opt := range All {
		left, env := "", opt.Env
		if opt.Flag != "" {
			left = "--" + opt.Flag + " " + opt.Arg
		} else if opt.Arg != "" {
			env += "=" + opt.Arg // a variable alone that takes a fixed value
		}
		fmt.Fprintf(&b, "  %-24s %-23s %s\n", left, env, opt.Help)
	}
	return b.String()
}

// Parse reads the global flags at the start of args (they stop at the first argument that is
// not a flag, the command, or after "--") and fills what they leave unset from getenv. It
// returns the options and the arguments from the command on. A flag is written -name or
// --name, with its value after '=' or as the next argument. For -h, --help it returns
// ErrHelp, for --version ErrVersion; an error's text names an option as the user wrote it. An
// API URL that is not plain is ErrURLNotRead: see ParseWith.
func Parse(args []string, getenv func(string) string) (*Options, []string, error) {
	return ParseWith(args, getenv, nil)
}

// ParseWith is Parse with parseURL to read an API URL that is not plain (nil: Parse).
func ParseWith(args []string, getenv func(string) string, parseURL URLParser) (*Options, []string, error) {
	// given[k] and as[k] are the value of All[k]'s flag and how it was written ("" = not given).
	// Arrays on the stack, not maps: this runs on every cached get.
	var given, as [maxOptions]string
	i, end := 0, 0 // end: where the flags end, without a "--"
	for ; i < len(args); i, end = i+1, i+1 {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		dashes := "-"
		if strings.HasPrefix(a, "--") {
			dashes = "--"
		}
		name, value, hasValue := strings.Cut(a[len(dashes):], "=")
		switch name {
		case "h", "help":
			return nil, nil, ErrHelp
		case "version":
			return nil, nil, ErrVersion
		}
		k := flagIndex(name)
		if k < 0 {
			return nil, nil, fmt.Errorf("flag provided but not defined: %s", shownFlag(dashes+name))
		}
		if !hasValue {
			if i+1 >= len(args) {
				return nil, nil, fmt.Errorf("flag needs an argument: %s", shownFlag(dashes+name))
			}
			i++
			value = args[i]
		}
		given[k], as[k] = value, dashes+name
	}
	o := &Options{KeyPEM: getenv("GHAPP_PRIVATE_KEY"), Hostname: "github.com", Flags: args[:end], parseURL: parseURL}
	for k, opt := range All {
		if opt.set == nil {
			continue
		}
		v, name := given[k], as[k]
		if name == "" || v == "" {
			v, name = strings.TrimSpace(getenv(opt.Env)), opt.Env
		}
		if err := opt.set(o, v, name); err != nil {
			return nil, nil, err
		}
	}
	// The JWT must go only to the API that the helper's own line names or derives. A
	// GHAPP_API_URL exported for another host (a shell set up for GitHub Enterprise, say) must
	// not take over a helper whose line names the host, or names none and so means github.com:
	// it counts only when the host came from the environment too (GHAPP_HOSTNAME), or when it is
	// on the host served (https://HOST/api/v3, https://api.HOST).
	hostname, apiURL := flagIndex("hostname"), flagIndex("api-url")
	hostFrom := as[hostname]
	if given[hostname] == "" {
		hostFrom = "GHAPP_HOSTNAME"
		if strings.TrimSpace(getenv("GHAPP_HOSTNAME")) == "" {
			hostFrom = "the default"
		}
	}
	if given[apiURL] == "" && o.APIURL != "" && hostFrom != "GHAPP_HOSTNAME" && !onHost(o.apiURLHost, o.Hostname) {
		o.Notes = append(o.Notes, fmt.Sprintf("ignoring GHAPP_API_URL: it is not on %s, the host from %s (set GHAPP_HOSTNAME with it, or pass --api-url)", o.Hostname, hostFrom))
		o.APIURL = ""
	}
	o.KeyFile = ExpandHome(o.KeyFile, getenv)
	o.AuditLog = ExpandHome(o.AuditLog, getenv)
	o.CacheDir = cache.DefaultDirFrom(getenv)
	return o, args[i:], nil
}

// Extend returns the options parsed from the flags o came from followed by more (global flags
// given after the command's name): a later flag wins and each is checked as before. It returns
// what follows the flags in more.
func (o *Options) Extend(more []string, getenv func(string) string) (*Options, []string, error) {
	return ParseWith(append(o.Flags[:len(o.Flags):len(o.Flags)], more...), getenv, o.parseURL)
}

// Route returns the route these options describe: what decides a request's cache key.
func (o *Options) Route() *route.Route {
	return &route.Route{Host: o.Hostname, AppID: o.AppID, InstallationID: o.InstallationID, Owner: o.Owner,
		Scope: o.Scope, Permissions: o.Permissions, MinLifetime: o.MinLifetime}
}

// onHost reports whether an API base whose host (with its port) is urlHost is on host:
// https://HOST/... or https://api.HOST/...
func onHost(urlHost, host string) bool {
	h := strings.ToLower(urlHost)
	return h == host || h == "api."+host
}

// maxOptions bounds len(All), so that Parse can keep what it reads in arrays
// (TestOptionsFitTheArrays).
const maxOptions = 24

// flagIndex returns the index in All of the option whose flag is name, or -1.
func flagIndex(name string) int {
	for k, opt := range All {
		if opt.Flag != "" && opt.Flag == name {
			return k
		}
	}
	return -1
}

func truthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "0", "false", "no", "off":
		return false
	}
	return true
}

// ExpandHome turns a leading "~/" into the home directory, for paths that come from the
// environment rather than a shell.
func ExpandHome(p string, getenv func(string) string) string {
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

// shownFlag returns a flag as an error may name it: as typed, unless it looks like a secret (a
// PEM pasted where a flag belongs starts with dashes too).
func shownFlag(f string) string {
	if redact.LooksLikeKey(f) {
		return redact.Shown(f)
	}
	return f
}

// LockWaitedVar names the environment variable through which the front tells the full helper
// how long this get has already waited for other processes' cache locks, so that a get waits
// about cache.DefaultLockWait at most in all, not that much in each binary. It is not a secret and
// not an option: the full helper removes it from its environment as it starts, so that nothing
// it runs inherits it. A value set by hand only shortens the wait.
const LockWaitedVar = "GHAPP_LOCK_WAITED"

// HeldLockVar names the environment variable through which the front hands the full helper the
// cache lock it took for this request: the number of an open file descriptor, the lock file,
// still locked (see cache.Held.File). Like LockWaitedVar it is not an option, and the full helper
// removes it as it starts; the front removes any value it did not set itself.
const HeldLockVar = "GHAPP_HELD_LOCK_FD"

// HeldLock returns the descriptor HeldLockVar names; false when it is unset, not a number, or
// a standard stream (0, 1 or 2), which is never a lock.
func HeldLock(getenv func(string) string) (fd int, ok bool) {
	v := getenv(HeldLockVar)
	if v == "" {
		return 0, false
	}
	fd, err := strconv.Atoi(v)
	if err != nil || fd <= 2 {
		return 0, false
	}
	return fd, true
}

// LockWaited returns the wait LockWaitedVar reports, between 0 and cache.DefaultLockWait; 0 when
// it is unset or not a duration.
func LockWaited(getenv func(string) string) time.Duration {
	v := getenv(LockWaitedVar)
	if v == "" {
		return 0 // the usual case: not worth the error time.ParseDuration builds
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0
	}
	return min(d, cache.DefaultLockWait)
}
