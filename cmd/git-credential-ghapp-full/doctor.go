package main

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth"
	"github.com/git-credential-ghapp/git-credential-ghapp/cache"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/gitconfig"
)

const doctorUsage = `usage: git-credential-ghapp [OPTIONS] doctor

Checks everything the helper needs, one line per check, each problem with its fix:
git on PATH and its version; the helper git uses for https://HOST/ (or https://HOST/OWNER/ with
--owner) and credential.useHttpPath; git-credential-ghapp on PATH; the private key (found,
parses, where from, file permissions) or, with --signer, the key store (opened, its key RSA);
one signature and how long it took; GitHub accepting the app's JWT (GET /app); this machine's
clock against GitHub's Date; the app's installations; the cache directory's permissions.

With no --app-id (nor GHAPP_APP_ID), it checks with the options of the helper git would run,
for the host of this tool's helper in git's config when no --hostname is given.
Exit status 0 when every check passes (warnings allowed), 1 otherwise.

Examples:
  git-credential-ghapp doctor
  git-credential-ghapp doctor --app-id 123 --key-file ~/.config/git-credential-ghapp/123.pem
  git-credential-ghapp doctor --app-id 123 --signer awskms:///alias/ci-bot
  git-credential-ghapp --hostname ghe.example.com doctor --owner acme
` + globalsNote

// minGitExpiry is the first git version that reads password_expiry_utc.
var minGitExpiry = [2]int{2, 41}

// clockWarning is the clock offset from GitHub above which doctor warns.
const clockWarning = 30 * time.Second

type doctor struct {
	e              *env
	failed, warned int
}

func (d *doctor) line(status, name, detail, fix string) {
	msg := oneLine(detail)
	if fix != "" {
		msg += "; fix: " + oneLine(fix)
	}
	fmt.Fprintf(d.e.stdout, "%-4s  %s: %s\n", status, name, msg)
}

func (d *doctor) ok(name, format string, args ...any) {
	d.line("ok", name, fmt.Sprintf(format, args...), "")
}
func (d *doctor) skip(name, why string)         { d.line("skip", name, why, "") }
func (d *doctor) warn(name, detail, fix string) { d.warned++; d.line("warn", name, detail, fix) }
func (d *doctor) fail(name, detail, fix string) { d.failed++; d.line("FAIL", name, detail, fix) }

func runDoctor(ctx context.Context, e *env, o *options, args []string) int {
	f := newFlags("doctor", doctorUsage, true)
	operands, o, code, ok := f.parse(e, o, args)
	if !ok {
		return code
	}
	if tooManyOperands(e, "doctor", operands, 0) {
		return exitUsage
	}
	d := &doctor{e: e}
	ctx, cancel := context.WithTimeout(ctx, requestDeadline)
	defer cancel()
	if o.AppID == "" && !hostnameGiven(e, o) {
		// No host named: check the host git's config has this tool's helper for.
		if ho, _, err := configuredHelper(e, ""); err == nil && ho != nil && ho.Hostname != o.Hostname {
			c := *o
			c.Hostname, c.APIURL = ho.Hostname, ho.APIURL
			o = &c
		}
	}

	helper := d.checkGit(o)
	if o.AppID == "" && helper != "" {
		if ho, err := helperOptions(helper, e.getenv); err == nil && ho.AppID != "" {
			ho.Owner = o.Owner
			o = ho
			d.ok("options", "taken from the helper git runs (app id %s)", o.AppID)
		}
	}
	key := d.checkKey(ctx, o)
	key = d.checkSignature(key)
	d.checkGitHub(ctx, o, key)
	d.checkCache(o)

	switch {
	case d.failed > 0:
		fmt.Fprintf(e.stdout, "doctor: %d %s failed\n", d.failed, plural(d.failed, "check", "checks"))
		return exitFail
	case d.warned > 0:
		fmt.Fprintf(e.stdout, "doctor: no check failed (%d %s)\n", d.warned, plural(d.warned, "warning", "warnings"))
	default:
		fmt.Fprintln(e.stdout, "doctor: every check passed")
	}
	return exitOK
}

// checkGit checks git, its version and its configuration for the host, and returns the helper
// command git runs for it ("" when none of this tool's).
func (d *doctor) checkGit(o *options) string {
	gitPath, err := exec.LookPath("git")
	if err != nil {
		d.fail("git", "git is not on PATH", "install git (2.41 or newer)")
		d.skip("helper", "needs git")
		return ""
	}
	cmd := exec.Command(gitPath, "version")
	cmd.Env = gitconfig.ChildEnv(os.Environ())
	out, err := cmd.Output()
	version := strings.TrimSpace(string(out))
	if err != nil {
		d.fail("git", fmt.Sprintf("%s version failed: %v", gitPath, err), "reinstall git")
		return ""
	}
	d.ok("git", "%s (%s)", version, gitPath)
	if v, ok := parseGitVersion(version); ok && (v[0] < minGitExpiry[0] || v[0] == minGitExpiry[0] && v[1] < minGitExpiry[1]) {
		d.warn("git version", fmt.Sprintf("git %d.%d ignores password_expiry_utc (git reads it from %d.%d on), so a helper that stores credentials, such as credential-cache, may hand git a token after it expired",
			v[0], v[1], minGitExpiry[0], minGitExpiry[1]), "upgrade git to 2.41 or newer")
	}

	probe := "https://" + o.Hostname + "/"
	if o.Owner != "" {
		probe += o.Owner + "/"
	}
	git := gitconfig.Git{}
	entries, err := git.Entries(gitconfig.Effective(), gitconfig.CredentialPattern, true)
	if err != nil {
		d.fail("helper", err.Error(), "repair the git configuration file it names")
		return ""
	}
	setupHint := "git-credential-ghapp setup --app-id ID --key-file PATH"
	if o.Hostname != "github.com" {
		setupHint += " --hostname " + o.Hostname
	}
	helpers := gitconfig.HelpersFor(entries, probe)
	own := -1
	for i, h := range helpers {
		if gitconfig.IsOwnHelper(h.Value) {
			own = i
			break
		}
	}
	var helper string
	switch {
	case own < 0:
		if alt := ownHelperUnder(entries, "https://"+o.Hostname+"/"); alt != nil {
			altURL := strings.TrimSuffix(strings.TrimPrefix(alt.Key, "credential."), ".helper")
			altOwner, _, _ := strings.Cut(strings.TrimPrefix(altURL, "https://"+o.Hostname+"/"), "/")
			d.warn("helper", fmt.Sprintf("git has no git-credential-ghapp helper for %s itself, only for %s (%s)", probe, altURL, origin(alt)),
				"run doctor --owner "+altOwner+" to check that one")
			helper = alt.Value
		} else {
			d.fail("helper", "git has no git-credential-ghapp helper for "+probe, "run "+setupHint)
			return ""
		}
	case own > 0:
		d.warn("helper", fmt.Sprintf("git asks %q (%s) before %q for %s, and takes the first answer", helpers[0].Value, origin(&helpers[0]),
			helpers[own].Value, probe), "run setup, whose empty helper line makes git forget the helpers configured before it")
		helper = helpers[own].Value
	default:
		d.ok("helper", "%s (%s)", helpers[0].Value, origin(&helpers[0]))
		helper = helpers[0].Value
	}
	for _, later := range helpersAfterOurs(helpers) {
		d.warn("stored tokens", storingHelperWarning(later, probe), "")
	}

	if v, set, err := git.URLBool("credential.useHttpPath", probe); err != nil || !set || !v {
		d.warn("useHttpPath", "git does not tell the helper which repository a request is for, so tokens cover the whole installation and an app installed on several accounts needs --owner",
			"git config --global credential.https://"+o.Hostname+".useHttpPath true")
	} else {
		d.ok("useHttpPath", "git sends the repository path for %s", probe)
	}
	if words, err := gitconfig.SplitCommand(helper); err == nil && len(words) > 0 && words[0] == "ghapp" {
		if p, err := exec.LookPath("git-credential-ghapp"); err != nil {
			d.fail("PATH", "git-credential-ghapp is not on PATH, so git cannot run the helper \"ghapp\"", "add the directory it is installed in (e.g. ~/.local/bin) to PATH, or run setup again to name the program by its path")
		} else {
			d.ok("PATH", "git runs %s", p)
		}
	} else if err == nil && len(words) > 0 {
		if fi, err := os.Stat(words[0]); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 && runtime.GOOS != "windows" {
			d.fail("program", "the helper names "+words[0]+", which is not an executable file", "run setup again from the installed program")
		} else {
			d.ok("program", "git runs %s", words[0])
		}
	}
	return helper
}

// ownHelperUnder returns the first helper of this tool configured for a URL under prefix.
func ownHelperUnder(entries []gitconfig.Entry, prefix string) *gitconfig.Entry {
	for i, e := range entries {
		sub, found := strings.CutPrefix(e.Key, "credential.")
		if found && strings.HasPrefix(sub, prefix) && strings.HasSuffix(sub, ".helper") && gitconfig.IsOwnHelper(e.Value) {
			return &entries[i]
		}
	}
	return nil
}

func origin(e *gitconfig.Entry) string {
	if p, ok := strings.CutPrefix(e.Origin, "file:"); ok {
		return p
	}
	return e.Origin
}

// hostnameGiven reports whether the host was named (--hostname, GHAPP_HOSTNAME) rather than
// left to its default.
func hostnameGiven(e *env, o *options) bool {
	if strings.TrimSpace(e.getenv("GHAPP_HOSTNAME")) != "" {
		return true
	}
	for _, f := range o.Flags {
		if f == "-hostname" || f == "--hostname" || strings.HasPrefix(f, "-hostname=") || strings.HasPrefix(f, "--hostname=") {
			return true
		}
	}
	return false
}

// configuredHelper returns the options of the helper of this tool that git's configuration
// (every file git reads) has, and the URL it is configured for: for host, or for any host when
// host is "". It returns nil
// when there is none (or git cannot tell), and an error naming them when there are several
// different ones. Only
// commands for people call it: git's own operations never read git's configuration.
func configuredHelper(e *env, host string) (*options, string, error) {
	entries, err := gitconfig.Git{}.Entries(gitconfig.Effective(), gitconfig.CredentialPattern, false)
	if err != nil {
		return nil, "", nil // no git, or a config git cannot read: no helper to take options from (doctor says why)
	}
	type found struct {
		o   *options
		url string
	}
	var all []found
	seen := map[string]bool{}
	for _, en := range entries {
		sub, ok := strings.CutPrefix(en.Key, "credential.")
		if !ok || !strings.HasSuffix(strings.ToLower(sub), ".helper") || !gitconfig.IsOwnHelper(en.Value) {
			continue
		}
		ho, err := helperOptions(en.Value, func(k string) string {
			if k == "HOME" {
				return e.getenv(k) // for a ~/ key path; the line's options alone, not GHAPP_*
			}
			return ""
		})
		if err != nil || ho.AppID == "" {
			continue
		}
		id := ho.AppID + "\x00" + ho.Hostname + "\x00" + ho.APIURL + "\x00" + ho.KeyFile
		if seen[id] {
			continue
		}
		seen[id] = true
		all = append(all, found{ho, sub[:len(sub)-len(".helper")]})
	}
	var match []found
	for _, f := range all {
		if host != "" && !strings.EqualFold(f.o.Hostname, host) {
			continue
		}
		match = append(match, f)
	}
	switch len(match) {
	case 0:
		return nil, "", nil
	case 1:
		return match[0].o, match[0].url, nil
	}
	var names []string
	for _, f := range match {
		names = append(names, "app "+f.o.AppID+" for "+f.url)
	}
	return nil, "", fmt.Errorf("git's config has helpers of several apps (%s): say which with --app-id (and --hostname)", strings.Join(names, ", "))
}

// helperOptions reads the options of a helper command such as "ghapp --app-id 1 --key-file P".
func helperOptions(helper string, getenv func(string) string) (*options, error) {
	words, err := gitconfig.SplitCommand(helper)
	if err != nil {
		return nil, err
	}
	if len(words) == 0 || !gitconfig.IsOwnHelper(helper) {
		return nil, errors.New("not this tool's helper")
	}
	o, _, err := parseOptions(words[1:], getenv)
	return o, err
}

// gitVersionRe is compiled on first use: package-level work runs in every process, cached gets
// included.
var gitVersionRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(\d+)\.(\d+)`) })

// parseGitVersion reads major and minor from "git version 2.39.5" (or "2.45.1.windows.1").
func parseGitVersion(s string) ([2]int, bool) {
	m := gitVersionRe().FindStringSubmatch(s)
	if m == nil {
		return [2]int{}, false
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return [2]int{major, minor}, true
}

// checkKey finds and parses the private key, and checks its file's permissions; with --signer it
// opens the key store's signer instead, and reads no key.
func (d *doctor) checkKey(ctx context.Context, o *options) crypto.Signer {
	if o.Signer != "" {
		return d.checkSigner(ctx, o)
	}
	if o.AppID == "" && o.KeyFile == "" && o.KeyPEM == "" {
		d.fail("app id", "no app id given, and no helper of this tool configured to take it from", "pass --app-id (and --key-file), or run setup")
		d.skip("private key", "needs the app id to look in the OS keyring, or --key-file")
		return nil
	}
	key, from, err := loadKey(d.e, o)
	if err != nil {
		d.fail("private key", err.Error(), "pass --key-file with the .pem downloaded from the app's settings, or run setup")
		return nil
	}
	d.ok("private key", "%s (RSA, %d bits)", from, key.N.BitLen())
	if o.KeyFile != "" {
		if w := appauth.KeyFileWarning(o.KeyFile); w != "" {
			d.warn("key file permissions", strings.TrimPrefix(w, "warning: "), "")
		} else {
			d.ok("key file permissions", "only its owner can read %s", o.KeyFile)
		}
	}
	return key
}

// checkGitHub checks that GitHub accepts the app's JWT, the clock offset and the installations.
func (d *doctor) checkGitHub(ctx context.Context, o *options, key crypto.Signer) {
	if key == nil || o.AppID == "" {
		why := "needs a private key"
		if o.AppID == "" {
			why = "needs the app id"
		}
		d.skip("GitHub", why)
		return
	}
	client := newClient(d.e, o)
	client.OnRetry = retryNotice(d.e)
	client.Key = func() (crypto.Signer, error) { return key, nil }
	app, err := client.App(ctx)
	if err != nil {
		d.fail("JWT", fmt.Sprintf("GET %s/app: %v", o.APIURL, err), "check --app-id and that the key is this app's (generate a new one in the app's settings if lost)")
	} else {
		d.ok("JWT", "GitHub at %s accepts it: app %s, id %d", o.APIURL, app.Slug, app.ID)
	}
	if off, ok := client.ServerTimeOffset(); ok {
		d.checkClock(off)
	}
	if err != nil {
		d.skip("installations", "needs an accepted JWT")
		return
	}
	d.checkInstallations(ctx, o, client, app)
}

func (d *doctor) checkClock(off time.Duration) {
	abs := off
	if abs < 0 {
		abs = -abs
	}
	if abs <= clockWarning {
		d.ok("clock", "within %s of GitHub's", max(abs.Round(time.Second), time.Second))
		return
	}
	dir := "behind"
	if off < 0 {
		dir = "ahead of"
	}
	// GitHub's Date header has a resolution of one second: a measured 9m59s is "about 10m0s".
	shown := abs.Round(time.Second)
	if abs >= 2*time.Minute {
		shown = abs.Round(time.Minute)
	}
	d.warn("clock", fmt.Sprintf("this machine's clock is about %s %s GitHub's; the helper corrects its JWTs for that, but TLS and git's expiry checks rely on the clock too",
		shown, dir), "synchronise the clock (enable NTP)")
}

func (d *doctor) checkInstallations(ctx context.Context, o *options, client *appauth.Client, app *appauth.App) {
	insts, err := client.Installations(ctx)
	if err != nil {
		d.fail("installations", err.Error(), "")
		return
	}
	if len(insts) == 0 {
		d.fail("installations", "the app is not installed on any account", "install it from "+strings.TrimRight(app.HTMLURL, "/")+"/installations/new")
		return
	}
	var parts []string
	onOwner := false
	for _, in := range insts {
		if len(parts) < 10 {
			parts = append(parts, fmt.Sprintf("%s (%s, %s repositories)", in.Account.Login, in.Account.Type, in.RepositorySelection))
		}
		onOwner = onOwner || strings.EqualFold(in.Account.Login, o.Owner)
	}
	if len(insts) > len(parts) {
		parts = append(parts, fmt.Sprintf("and %d more", len(insts)-len(parts)))
	}
	d.ok("installations", "installed on %s", strings.Join(parts, ", "))
	if o.Owner != "" && !onOwner {
		d.fail("installations", "the app is not installed on "+o.Owner, "install it from "+strings.TrimRight(app.HTMLURL, "/")+"/installations/new")
	}
}

// checkCache checks that the cache directory is usable, without creating it.
func (d *doctor) checkCache(o *options) {
	if _, err := os.Lstat(o.CacheDir); errors.Is(err, fs.ErrNotExist) {
		d.ok("cache", "%s does not exist yet (it is made, 0700, on first use)", o.CacheDir)
		return
	}
	store, err := cache.Open(o.CacheDir)
	if err != nil {
		d.fail("cache", err.Error(), "")
		return
	}
	n := len(store.List())
	d.ok("cache", "%s (0700, %d %s)", store.Dir(), n, plural(n, "token", "tokens"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// withConfiguredApp returns o, or, when o names no app (no --app-id, no GHAPP_APP_ID), o with
// the app, host, API and key of the helper that setup wrote to git's configuration (for o's host
// when --hostname or GHAPP_HOSTNAME names one), so that token, installations and revoke work
// after setup without repeating its flags. Flags and variables given still win.
func withConfiguredApp(e *env, o *options) (*options, error) {
	if o.AppID != "" {
		return o, nil
	}
	host := ""
	if hostnameGiven(e, o) {
		host = o.Hostname
	}
	ho, url, err := configuredHelper(e, host)
	if err != nil || ho == nil {
		return o, err
	}
	c := *o
	c.AppID = ho.AppID
	if !hostnameGiven(e, o) {
		c.Hostname = ho.Hostname
	}
	if c.APIURL == appauth.APIBaseURL(o.Hostname) {
		c.APIURL = ho.APIURL
	}
	if c.KeyFile == "" && c.KeyPEM == "" {
		c.KeyFile = ho.KeyFile
	}
	if c.Owner == "" {
		// A helper set up with --owner serves https://HOST/OWNER: that account.
		if rest, ok := strings.CutPrefix(strings.ToLower(url), "https://"+strings.ToLower(c.Hostname)+"/"); ok && rest != "" {
			c.Owner, _, _ = strings.Cut(url[len(url)-len(rest):], "/")
		}
	}
	return &c, nil
}
