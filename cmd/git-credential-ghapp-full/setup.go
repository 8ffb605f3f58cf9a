package main

import (
	"context"
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth"
	"github.com/git-credential-ghapp/git-credential-ghapp/appauth/keystore"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/gitconfig"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/route"
)

const setupUsage = `usage: git-credential-ghapp setup [--global | --local | --file PATH] --app-id ID (--key-file PATH | --signer URI)
                                [--owner OWNER] [--hostname HOST] [--commit-identity] [--dry-run]
       git-credential-ghapp setup --remove [--global | --local | --file PATH] [--owner OWNER] [--hostname HOST] [--dry-run]

Sets git up to authenticate to HOST (github.com by default) as the GitHub App, in one step:

  1. reads the private key and checks it with GitHub (GET /app), showing the app's name and
     where it is installed;
  2. stores the key in the OS keyring (service git-credential-ghapp, account ID); where no
     keyring answers (headless Linux, containers) it keeps a copy readable only by you in
     $XDG_CONFIG_HOME/git-credential-ghapp/ID.pem instead, and the helper is given that path;
     with --signer URI the key stays in its key store (a KMS, an ssh-agent): nothing is stored,
     and the helper is given --signer URI and no key path;
  3. writes the git configuration, for https://HOST, or https://HOST/OWNER with --owner:
       credential.https://HOST[/OWNER].helper = ""      (git forgets helpers configured before,
                                                          e.g. a keychain holding a personal token)
       credential.https://HOST[/OWNER].helper = ghapp --app-id ID [--key-file PATH | --signer URI] [--hostname HOST]
       credential.https://HOST.useHttpPath = true        (git tells the helper which repository)

Running it again changes nothing. It writes to the global git config (~/.gitconfig) unless told
otherwise. The helper is "ghapp" when git-credential-ghapp on PATH is this program, else this
program's absolute path. It warns about a helper after it that would store the tokens.

  --global         write to the global git config (the default)
  --local          write to the current repository's .git/config
  --file PATH      write to the git config file PATH
  --owner OWNER    use the app only for https://HOST/OWNER/... (other owners keep their helpers)
  --commit-identity  also write user.name and user.email as the app's bot user (see identity),
                   so that commits made here are the app's
  --dry-run        check the key and print the git config commands, but store and write nothing
  --remove         take out the lines setup wrote: the helper of --app-id (or of the only app
                   configured for the URL), useHttpPath if setup set it and no other helper
                   for the host remains, and a bot's user.name/user.email that
                   --commit-identity wrote; the stored key stays (see key remove)

Examples:
  git-credential-ghapp setup --app-id 123 --key-file ~/Downloads/my-app.2024-01-01.private-key.pem
  git-credential-ghapp setup --app-id 123 --key-file app.pem --owner acme --hostname ghe.example.com
  git-credential-ghapp setup --app-id 123 --signer awskms:///alias/ci-bot
  git-credential-ghapp setup --remove --owner acme --hostname ghe.example.com
`

func runSetup(ctx context.Context, e *env, o *options, args []string) int {
	f := newFlags("setup", setupUsage, true)
	global := f.fs.Bool("global", false, "")
	local := f.fs.Bool("local", false, "")
	file := f.fs.String("file", "", "")
	dryRun := f.fs.Bool("dry-run", false, "")
	remove := f.fs.Bool("remove", false, "")
	commitIdentity := f.fs.Bool("commit-identity", false, "")
	operands, o, code, ok := f.parse(e, o, args)
	if !ok {
		return code
	}
	if tooManyOperands(e, "setup", operands, 0) {
		return exitUsage
	}
	loc := gitconfig.Global()
	switch n := btoi(*global) + btoi(*local) + btoi(*file != ""); {
	case n > 1:
		e.errorf("setup: give at most one of --global, --local and --file")
		return exitUsage
	case *local:
		loc = gitconfig.Local()
	case *file != "":
		loc = gitconfig.File(expandHome(*file, e.getenv))
	}
	hostURL := "https://" + o.Hostname
	helperURL := hostURL
	if o.Owner != "" {
		t, err := route.ParseTarget(o.Owner)
		if err != nil || t.Repo != "" || t.Owner == "" {
			e.errorf("setup: --owner %s is not a GitHub account name", appauth.Shown(o.Owner))
			return exitUsage
		}
		helperURL += "/" + t.Owner
	}
	s := &setup{e: e, o: o, loc: loc, dryRun: *dryRun, hostURL: hostURL, helperURL: helperURL, commitIdentity: *commitIdentity}
	if *remove {
		return s.remove()
	}
	if o.AppID == "" {
		e.errorf("setup: %v", errNoAppID)
		return exitUsage
	}
	return s.run(ctx)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// setup is one run of the setup command.
type setup struct {
	e                  *env
	o                  *options
	loc                gitconfig.Location
	dryRun             bool
	hostURL, helperURL string
	git                gitconfig.Git
	commitIdentity     bool // --commit-identity: write user.name and user.email too
}

func (s *setup) say(format string, args ...any) { fmt.Fprintf(s.e.stdout, format+"\n", args...) }

func (s *setup) run(ctx context.Context) int {
	e, o := s.e, s.o
	// 1. The key, and GitHub's word that it is the app's.
	ctx, cancel := context.WithTimeout(ctx, requestDeadline)
	defer cancel()
	if o.Signer != "" && (o.KeyFile != "" || o.KeyPEM != "") {
		e.errorf("setup: give --signer or a key (--key-file, GHAPP_PRIVATE_KEY_FILE, GHAPP_PRIVATE_KEY), not both")
		return exitUsage
	}
	key, from, err := openSigner(ctx, e, o)
	if err == nil && o.Signer != "" {
		err = keystore.Check(ctx, key)
	}
	if err != nil {
		e.errorf("setup: %v", err)
		return exitFail
	}
	if o.Signer != "" {
		s.say("signer: %s (%s)", o.Signer, keyDescription(key))
	} else {
		s.say("private key: %s (%s)", from, keyDescription(key))
	}
	client := newClient(e, o)
	client.OnRetry = retryNotice(e)
	client.Key = func() (crypto.Signer, error) { return key, nil }
	app, err := client.App(ctx)
	if err != nil {
		e.errorf("setup: %v", err)
		return exitFail
	}
	name := app.Slug
	if app.Name != "" && app.Name != app.Slug {
		name += " (" + app.Name + ")"
	}
	s.say("GitHub at %s accepts the key: app %s, id %d", o.APIURL, name, app.ID)
	example := s.reportInstallations(ctx, client, app)

	// 2. Where the key lives from now on: a key store keeps its own.
	keyFile := ""
	if rsaKey, local := key.(*rsa.PrivateKey); local {
		var ok bool
		if keyFile, ok = s.storeKey(rsaKey, from); !ok {
			return exitFail
		}
	} else {
		s.say("the key stays in its key store: nothing to store")
	}

	// 3. The git configuration.
	program, onPath := helperProgram()
	if !onPath {
		e.errorf("warning: git-credential-ghapp on PATH is not this program, or there is none: the helper line names %s, which git runs by its path", program)
	}
	h := gitconfig.Helper{URL: s.helperURL, HostURL: s.hostURL, Command: s.helperCommand(program, keyFile)}
	entries, err := s.git.Entries(s.loc, gitconfig.CredentialPattern, false)
	if err != nil {
		e.errorf("setup: %v", err)
		return exitFail
	}
	changes := h.SetupChanges(entries)
	switch {
	case len(changes) == 0:
		s.say("%s already has these lines for %s: nothing to change", s.loc.Name, s.helperURL)
	case s.dryRun:
		s.say("would run (dry run, nothing written):")
	default:
		if err := s.git.Apply(s.loc, changes); err != nil {
			e.errorf("setup: %v", err)
			return exitFail
		}
		s.say("wrote to %s:", s.loc.Name)
	}
	for _, c := range changes {
		s.say("  %s", c.Command(s.loc))
	}
	if s.commitIdentity && !s.writeCommitIdentity(ctx, client, app) {
		return exitFail
	}
	if s.dryRun {
		return exitOK
	}
	if !(len(s.loc.Args) == 2 && s.loc.Args[0] == "--file") {
		s.checkEffective(h) // a --file may be read by git only through an include, or not at all
	}
	s.say("done: git now authenticates to %s/ as app %s; try: git ls-remote %s/%s/REPO", s.helperURL, app.Slug, s.hostURL, example)
	return exitOK
}

// reportInstallations says where the app is installed, and warns when that is nowhere, or not on
// --owner. It returns an owner to show in an example: --owner, else the first account the app
// is installed on, else "OWNER".
func (s *setup) reportInstallations(ctx context.Context, client *appauth.Client, app *appauth.App) (example string) {
	example = "OWNER"
	if s.o.Owner != "" {
		example = s.o.Owner
	}
	insts, err := client.Installations(ctx)
	if err != nil {
		s.e.errorf("warning: cannot list the app's installations: %v", err)
		return example
	}
	if len(insts) == 0 {
		s.e.errorf("warning: the app is not installed anywhere yet: install it from %s", strings.TrimRight(app.HTMLURL, "/")+"/installations/new")
		return example
	}
	if s.o.Owner == "" {
		example = insts[0].Account.Login
	}
	names := make([]string, 0, len(insts))
	onOwner := false
	for _, in := range insts {
		names = append(names, in.Account.Login)
		onOwner = onOwner || strings.EqualFold(in.Account.Login, s.o.Owner)
	}
	shown := names
	if len(shown) > 10 {
		shown = append(shown[:10:10], fmt.Sprintf("and %d more", len(names)-10))
	}
	s.say("installed on: %s", strings.Join(shown, ", "))
	if s.o.Owner != "" && !onOwner {
		s.e.errorf("warning: the app is not installed on %s: install it there before using it", s.o.Owner)
	}
	return example
}

// storeKey puts the key in the OS keyring or, when none answers, in a 0600 file, and returns the
// path the helper must be given ("" when the helper finds the key in the keyring).
func (s *setup) storeKey(key *rsa.PrivateKey, from string) (keyFile string, ok bool) {
	e, o := s.e, s.o
	if from == "OS keyring" {
		s.say("the key is already in the OS keyring")
		return "", true
	}
	data := encodeKey(key)
	var keyringErr error
	if s.dryRun {
		// Ask the keyring something harmless to learn whether it answers.
		if _, err := appauth.KeyringGet(o.AppID); err != nil && !errors.Is(err, appauth.ErrKeyNotInKeyring) {
			keyringErr = err
		}
	} else {
		keyringErr = appauth.KeyringSet(o.AppID, data)
	}
	if keyringErr == nil {
		if s.dryRun {
			s.say("would store the key in the OS keyring (service %s, account %s)", appauth.KeyringService, o.AppID)
		} else {
			s.say("stored the key in the OS keyring (service %s, account %s)", appauth.KeyringService, o.AppID)
		}
		return "", true
	}
	path, err := keyCopyPath(e, o.AppID)
	if err != nil {
		e.errorf("setup: no OS keyring answered (%v), and %v", keyringErr, err)
		return "", false
	}
	if s.dryRun {
		s.say("no OS keyring answered (%v): would keep the key in %s (0600)", keyringErr, path)
		return path, true
	}
	wrote, err := writeKeyCopy(path, data)
	if err != nil {
		e.errorf("setup: no OS keyring answered (%v), and the key cannot be stored in %s: %v", keyringErr, path, err)
		return "", false
	}
	if wrote {
		s.say("no OS keyring answered (%v): keeping the key in %s (0600)", keyringErr, path)
	} else {
		s.say("no OS keyring answered (%v): the key is already in %s (0600)", keyringErr, path)
	}
	return path, true
}

// helperCommand is the helper as git will run it: program (see helperProgram) and the options it
// needs beyond the defaults, quoted for the shell git runs it with.
func (s *setup) helperCommand(program, keyFile string) string {
	o := s.o
	words := []string{gitconfig.Quote(program), "--app-id", gitconfig.Quote(o.AppID)}
	if keyFile != "" {
		words = append(words, "--key-file", gitconfig.Quote(keyFile))
	}
	if o.Signer != "" {
		words = append(words, "--signer", gitconfig.Quote(o.Signer))
	}
	if o.Hostname != "github.com" {
		words = append(words, "--hostname", gitconfig.Quote(o.Hostname))
	}
	if o.APIURL != appauth.APIBaseURL(o.Hostname) {
		words = append(words, "--api-url", gitconfig.Quote(o.APIURL))
	}
	return strings.Join(words, " ")
}

// checkEffective warns when, with every git config file read, git would still ask another helper
// before this one (a later file, such as the repository's, can add one).
func (s *setup) checkEffective(h gitconfig.Helper) {
	entries, err := s.git.Entries(gitconfig.Effective(), gitconfig.CredentialPattern, true)
	if err != nil {
		return // the write succeeded; a diagnosis that cannot run is not a failure
	}
	helpers := gitconfig.HelpersFor(entries, s.helperURL+"/")
	if len(helpers) > 0 && helpers[0].Value != h.Command {
		s.e.errorf("warning: git asks the helper %q (%s) before this one for %s/: remove it, or run setup where it is configured",
			helpers[0].Value, strings.TrimPrefix(helpers[0].Origin, "file:"), s.helperURL)
	}
	for _, later := range helpersAfterOurs(helpers) {
		s.e.errorf("warning: %s", storingHelperWarning(later, s.helperURL+"/"))
	}
}

// helpersAfterOurs returns the helpers git asks after this tool's first one: git hands each of
// them every credential it approves, so a storing helper among them (store, cache, a keychain)
// keeps a copy of each installation token.
func helpersAfterOurs(helpers []gitconfig.Entry) []gitconfig.Entry {
	for i, h := range helpers {
		if gitconfig.IsOwnHelper(h.Value) {
			var later []gitconfig.Entry
			for _, l := range helpers[i+1:] {
				if !gitconfig.IsOwnHelper(l.Value) {
					later = append(later, l)
				}
			}
			return later
		}
	}
	return nil
}

// storingHelperWarning says that a helper configured after ours is handed every token, and how
// to stop it: the empty helper line setup writes resets only the helpers configured before it.
func storingHelperWarning(h gitconfig.Entry, url string) string {
	key := h.Key
	if strings.EqualFold(key, "credential.helper") {
		key = "credential.helper"
	}
	return fmt.Sprintf("git also runs the helper %q (%s, %s) after this one for %s, and hands it every installation token to store "+
		"(credential-store writes them to a file in plain text): remove that line, or move it to a URL of another host "+
		"(an empty helper line resets only the helpers configured before it)", h.Value, key, origin(&h), url)
}

// helperProgram is how the helper line names this program: "ghapp" (git then runs
// git-credential-ghapp from PATH) when that is this very binary, else this binary's absolute
// path, so that git runs what setup checked. onPath reports the first case.
func helperProgram() (program string, onPath bool) {
	self, err := os.Executable()
	if err != nil {
		return "ghapp", true // nothing better to write; doctor checks PATH
	}
	if resolved, err := filepath.EvalSymlinks(self); err == nil {
		self = resolved
	}
	if base := strings.TrimSuffix(filepath.Base(self), ".exe"); base != "git-credential-ghapp" {
		// Not the program git runs (the full helper, or a build under another name): the front,
		// beside it (go install) or in the bin/ above libexec/git-credential-ghapp/ (install.sh).
		name := "git-credential-ghapp"
		if runtime.GOOS == "windows" {
			name += ".exe"
		}
		dir := filepath.Dir(self)
		for _, front := range []string{filepath.Join(dir, name), filepath.Join(dir, "..", "..", "bin", name)} {
			if fi, err := os.Stat(front); err == nil && fi.Mode().IsRegular() {
				self = filepath.Clean(front)
				break
			}
		}
	}
	found, err := exec.LookPath("git-credential-ghapp")
	if err == nil {
		if a, err1 := os.Stat(found); err1 == nil {
			if b, err2 := os.Stat(self); err2 == nil && os.SameFile(a, b) {
				return "ghapp", true
			}
		}
	}
	return filepath.ToSlash(self), false
}

// remove takes out what setup wrote to the configuration: this tool's helper lines for the URL
// of the app (--app-id, or the only app configured there), and useHttpPath only when setup set it.
func (s *setup) remove() int {
	h := gitconfig.Helper{URL: s.helperURL, HostURL: s.hostURL, AppID: s.o.AppID}
	entries, err := s.git.Entries(s.loc, gitconfig.CredentialPattern, false)
	if err != nil {
		s.e.errorf("setup --remove: %v", err)
		return exitFail
	}
	if h.AppID == "" {
		switch ids := h.OwnAppIDs(entries); {
		case len(ids) > 1:
			s.e.errorf("setup --remove: %s has helpers of several apps for %s (app ids %s): say which with --app-id", s.loc.Name, s.helperURL, strings.Join(ids, ", "))
			return exitUsage
		case len(ids) == 1:
			h.AppID = ids[0]
		}
	}
	changes := h.RemoveChanges(entries)
	identity, err := s.git.Entries(s.loc, `^user\.(name|email)$`, false)
	if err != nil {
		s.e.errorf("setup --remove: %v", err)
		return exitFail
	}
	changes = append(changes, botIdentityChanges(identity)...)
	switch {
	case len(changes) == 0:
		s.say("%s has no git-credential-ghapp helper for %s: nothing to remove", s.loc.Name, s.helperURL)
		return exitOK
	case s.dryRun:
		s.say("would run (dry run, nothing written):")
	default:
		if err := s.git.Apply(s.loc, changes); err != nil {
			s.e.errorf("setup --remove: %v", err)
			return exitFail
		}
		s.say("removed from %s:", s.loc.Name)
	}
	for _, c := range changes {
		s.say("  %s", c.Command(s.loc))
	}
	if !s.dryRun {
		if h.AppID != "" {
			s.say("the private key stays stored; to delete it too: git-credential-ghapp key remove --app-id %s", gitconfig.Quote(h.AppID))
		} else {
			s.say("the private key stays stored; to delete it too: git-credential-ghapp key remove --app-id ID (the app's id)")
		}
	}
	return exitOK
}
