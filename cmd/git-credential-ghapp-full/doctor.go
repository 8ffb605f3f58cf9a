package main

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"regexp"
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
parses, where from, file permissions); GitHub accepting the app's JWT (GET /app); this machine's
clock against GitHub's Date; the app's installations; the cache directory's permissions.

With no --app-id (nor GHAPP_APP_ID), it checks with the options of the helper git would run.
Exit status 0 when every check passes (warnings allowed), 1 otherwise.

Examples:
  git-credential-ghapp doctor
  git-credential-ghapp doctor --app-id 123 --key-file ~/.config/git-credential-ghapp/123.pem
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

	helper := d.checkGit(o)
	if o.AppID == "" && helper != "" {
		if ho, err := helperOptions(helper, e.getenv); err == nil && ho.AppID != "" {
			ho.Owner = o.Owner
			o = ho
			d.ok("options", "taken from the helper git runs (app id %s)", o.AppID)
		}
	}
	key := d.checkKey(o)
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
	out, err := exec.Command(gitPath, "version").Output()
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

	if v, set, err := git.URLBool("credential.useHttpPath", probe); err != nil || !set || !v {
		d.warn("useHttpPath", "git does not tell the helper which repository a request is for, so tokens cover the whole installation and an app installed on several accounts needs --owner",
			"git config --global credential.https://"+o.Hostname+".useHttpPath true")
	} else {
		d.ok("useHttpPath", "git sends the repository path for %s", probe)
	}
	if words, err := gitconfig.SplitCommand(helper); err == nil && len(words) > 0 && words[0] == "ghapp" {
		if p, err := exec.LookPath("git-credential-ghapp"); err != nil {
			d.fail("PATH", "git-credential-ghapp is not on PATH, so git cannot run the helper \"ghapp\"", "add the directory it is installed in (e.g. ~/.local/bin) to PATH")
		} else {
			d.ok("PATH", "git runs %s", p)
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

// checkKey finds and parses the private key, and checks its file's permissions.
func (d *doctor) checkKey(o *options) *rsa.PrivateKey {
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
func (d *doctor) checkGitHub(ctx context.Context, o *options, key *rsa.PrivateKey) {
	if key == nil || o.AppID == "" {
		why := "needs a private key"
		if o.AppID == "" {
			why = "needs the app id"
		}
		d.skip("GitHub", why)
		return
	}
	client := newClient(d.e, o)
	client.Key = func() (*rsa.PrivateKey, error) { return key, nil }
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
