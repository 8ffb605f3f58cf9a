package main

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/broker"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/gitconfig"
)

const setupUsage = `usage: git-credential-ghapp setup [--global | --local | --file PATH] --app-id ID --key-file PATH
                                [--owner OWNER] [--hostname HOST] [--dry-run]
       git-credential-ghapp setup --remove [--global | --local | --file PATH] [--owner OWNER] [--hostname HOST] [--dry-run]

Sets git up to authenticate to HOST (github.com by default) as the GitHub App, in one step:

  1. reads the private key and checks it with GitHub (GET /app), showing the app's name and
     where it is installed;
  2. stores the key in the OS keyring (service git-credential-ghapp, account ID); where no
     keyring answers (headless Linux, containers) it keeps a copy readable only by you in
     $XDG_CONFIG_HOME/git-credential-ghapp/ID.pem instead, and the helper is given that path;
  3. writes the git configuration, for https://HOST, or https://HOST/OWNER with --owner:
       credential.https://HOST[/OWNER].helper = ""      (git forgets helpers configured before,
                                                          e.g. a keychain holding a personal token)
       credential.https://HOST[/OWNER].helper = ghapp --app-id ID [--key-file PATH] [--hostname HOST]
       credential.https://HOST.useHttpPath = true        (git tells the helper which repository)

Running it again changes nothing. It writes to the global git config (~/.gitconfig) unless told
otherwise.

  --global         write to the global git config (the default)
  --local          write to the current repository's .git/config
  --file PATH      write to the git config file PATH
  --owner OWNER    use the app only for https://HOST/OWNER/... (other owners keep their helpers)
  --dry-run        check the key and print the git config commands, but store and write nothing
  --remove         take out the lines setup wrote (the helper, and useHttpPath unless another
                   helper for the host remains); the stored key stays (see key remove)

Examples:
  git-credential-ghapp setup --app-id 123 --key-file ~/Downloads/my-app.2024-01-01.private-key.pem
  git-credential-ghapp setup --app-id 123 --key-file app.pem --owner acme --hostname ghe.example.com
  git-credential-ghapp setup --remove --owner acme --hostname ghe.example.com
`

func runSetup(ctx context.Context, e *env, o *options, args []string) int {
	f := newFlags("setup", setupUsage, true)
	global := f.fs.Bool("global", false, "")
	local := f.fs.Bool("local", false, "")
	file := f.fs.String("file", "", "")
	dryRun := f.fs.Bool("dry-run", false, "")
	remove := f.fs.Bool("remove", false, "")
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
		t, err := broker.ParseTarget(o.Owner)
		if err != nil || t.Repo != "" || t.Owner == "" {
			e.errorf("setup: --owner %q is not a GitHub account name", o.Owner)
			return exitUsage
		}
		helperURL += "/" + t.Owner
	}
	s := &setup{e: e, o: o, loc: loc, dryRun: *dryRun, hostURL: hostURL, helperURL: helperURL}
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
}

func (s *setup) say(format string, args ...any) { fmt.Fprintf(s.e.stdout, format+"\n", args...) }

func (s *setup) run(ctx context.Context) int {
	e, o := s.e, s.o
	// 1. The key, and GitHub's word that it is the app's.
	key, from, err := loadKey(e, o)
	if err != nil {
		e.errorf("setup: %v", err)
		return exitFail
	}
	s.say("private key: %s (RSA, %d bits)", from, key.N.BitLen())
	client := newClient(e, o)
	client.Key = func() (*rsa.PrivateKey, error) { return key, nil }
	ctx, cancel := context.WithTimeout(ctx, requestDeadline)
	defer cancel()
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

	// 2. Where the key lives from now on.
	keyFile, ok := s.storeKey(key, from)
	if !ok {
		return exitFail
	}

	// 3. The git configuration.
	h := gitconfig.Helper{URL: s.helperURL, HostURL: s.hostURL, Command: s.helperCommand(keyFile)}
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
	if s.dryRun {
		return exitOK
	}
	if !(len(s.loc.Args) == 2 && s.loc.Args[0] == "--file") {
		s.checkEffective(h) // a --file may be read by git only through an include, or not at all
	}
	if _, err := exec.LookPath("git-credential-ghapp"); err != nil {
		e.errorf("warning: git-credential-ghapp is not on PATH, so git cannot run the helper \"ghapp\": add its directory to PATH")
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

// helperCommand is the helper as git will run it: "ghapp" (git runs git-credential-ghapp) and
// the options it needs beyond the defaults, quoted for the shell git runs it with.
func (s *setup) helperCommand(keyFile string) string {
	o := s.o
	words := []string{"ghapp", "--app-id", gitconfig.Quote(o.AppID)}
	if keyFile != "" {
		words = append(words, "--key-file", gitconfig.Quote(keyFile))
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
}

// remove takes out what setup wrote to the configuration.
func (s *setup) remove() int {
	h := gitconfig.Helper{URL: s.helperURL, HostURL: s.hostURL}
	entries, err := s.git.Entries(s.loc, gitconfig.CredentialPattern, false)
	if err != nil {
		s.e.errorf("setup --remove: %v", err)
		return exitFail
	}
	changes := h.RemoveChanges(entries)
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
		id := s.o.AppID
		if id == "" {
			id = "ID"
		}
		s.say("the private key stays stored; to delete it too: git-credential-ghapp key remove --app-id %s", id)
	}
	return exitOK
}
