package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/internal/fakegithub"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/testhome"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain builds the installed pair, the front git-credential-ghapp and this full helper, once
// into a temporary directory and puts it first on PATH: the scenarios and the end-to-end tests
// run what a user installs, and the real git runs the front as its credential helper.
func TestMain(m *testing.M) {
	os.Exit(withPair(m))
}

func withPair(m *testing.M) int {
	if dir := os.Getenv("GHAPP_TEST_PAIR_DIR"); dir != "" { // a child of TestInProcess
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "ghapp-pair-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	const mod = "github.com/git-credential-ghapp/git-credential-ghapp/cmd/"
	build := exec.Command("go", "build", "-tags", "ghapp_testkeyring", "-o", dir+string(filepath.Separator), mod+"git-credential-ghapp", mod+"git-credential-ghapp-full")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the helper pair: %v\n%s", err, out)
		return 1
	}
	os.Setenv("GHAPP_TEST_PAIR_DIR", dir)
	os.Setenv("PATH", dir+string(filepath.ListSeparator)+os.Getenv("PATH"))
	return m.Run()
}

// TestScripts runs the CLI scenarios in testdata/script: each is a story of commands against a
// fresh fake GitHub, readable without the Go code.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		Setup:               setupWorld,
		Cmds:                map[string]func(*testscript.TestScript, bool, []string){"fake": cmdFake, "auditlog": cmdAuditLog, "stoppedholder": cmdStoppedHolder},
		RequireExplicitExec: true,
	})
}

type fakeKey struct{}

// world is what every scenario starts with: a fake GitHub on loopback with one app ("ci-bot",
// key in $WORK/app.pem, 0600) installed on the organisation "acme" (repositories app and lib,
// contents:write and metadata:read), git configured in a throwaway home to trust the fake's CA.
type world struct {
	srv   *fakegithub.Server
	apps  map[string]*fakegithub.App
	insts []*fakegithub.Installation
}

func setupWorld(e *testscript.Env) error {
	w, vars, err := startWorld(e.WorkDir)
	if err != nil {
		return err
	}
	e.Defer(w.srv.Close)
	e.Values[fakeKey{}] = w
	for k, v := range vars {
		e.Setenv(k, v)
	}
	// $HELPER_BIN is the helper testscript put on PATH; $PATH_WITHOUT_HELPER is PATH without its
	// directory, for scenarios about a helper installed off PATH.
	var rest []string
	for _, dir := range filepath.SplitList(e.Getenv("PATH")) {
		if p := filepath.Join(dir, "git-credential-ghapp"); e.Getenv("HELPER_BIN") == "" && fileExists(p) {
			e.Setenv("HELPER_BIN", p)
			continue
		}
		rest = append(rest, dir)
	}
	e.Setenv("PATH_WITHOUT_HELPER", strings.Join(rest, string(filepath.ListSeparator)))
	return nil
}

// startWorld starts the fake GitHub of every scenario under dir and returns the environment the
// helper and git run with: a throwaway home, and nothing of the developer's own settings.
func startWorld(dir string) (*world, map[string]string, error) {
	srv, err := fakegithub.New(fakegithub.Config{Dir: filepath.Join(dir, ".fake")})
	if err != nil {
		return nil, nil, err
	}
	w := &world{srv: srv, apps: map[string]*fakegithub.App{}}
	app := srv.NewApp("ci-bot")
	w.apps["ci-bot"] = app
	if err := os.WriteFile(filepath.Join(dir, "app.pem"), app.PEM, 0o600); err != nil {
		srv.Close()
		return nil, nil, err
	}
	for _, r := range []string{"acme/app", "acme/lib"} {
		if err := srv.AddRepo(r); err != nil {
			srv.Close()
			return nil, nil, err
		}
	}
	inst := srv.Install(app, "acme", "Organization", map[string]string{"contents": "write", "metadata": "read"})
	w.insts = append(w.insts, inst)

	vars, err := testhome.Env(dir, srv.CAFile)
	if err != nil {
		srv.Close()
		return nil, nil, err
	}
	maps.Copy(vars, map[string]string{
		"HOST":                srv.Host,
		"APP_ID":              strconv.FormatInt(app.ID, 10),
		"INSTALLATION_ID":     strconv.FormatInt(inst.ID, 10),
		"CLIENT_ID":           app.ClientID,
		"BOT_USER_ID":         strconv.FormatInt(app.BotUserID(), 10),
		"GHAPP_HOSTNAME":      srv.Host,
		"GIT_ASKPASS":         "",
		"SSH_ASKPASS":         "",
		"GIT_AUTHOR_NAME":     "Test",
		"GIT_AUTHOR_EMAIL":    "test@example.com",
		"GIT_COMMITTER_NAME":  "Test",
		"GIT_COMMITTER_EMAIL": "test@example.com",
	})
	// Nothing from the developer's environment leaks in: no key, no proxy, no trace.
	for _, k := range []string{"GHAPP_APP_ID", "GHAPP_PRIVATE_KEY", "GHAPP_PRIVATE_KEY_FILE", "GHAPP_OWNER", "GHAPP_INSTALLATION_ID", "GHAPP_PERMISSIONS", "GHAPP_SCOPE", "GHAPP_API_URL", "GHAPP_MIN_LIFETIME", "GHAPP_TRACE", "GHAPP_AUDIT_LOG", "GHAPP_CACHE_DIR", "GHAPP_SIGNER", "GHAPP_LOCK_WAITED", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "GIT_TRACE", "GIT_CURL_VERBOSE"} {
		vars[k] = ""
	}
	return w, vars, nil
}

// cmdFake drives and checks the fake GitHub from a scenario:
//
//	fake count ROUTE N          the route was called N times ("api" = every REST call, "git" = git requests)
//	fake reset                  zero the counters
//	fake app SLUG               register another app; its key goes to $WORK/SLUG.pem, its id to $SLUG_ID
//	fake install SLUG ACCOUNT TYPE PERMS [REPO...]   install an app (PERMS like contents:read,metadata:read)
//	fake uninstall ACCOUNT      remove every installation on ACCOUNT
//	fake repo OWNER/NAME        create a repository
//	fake fault ROUTE STATUS [TIMES] [Header:value...]   queue a failure ("drop" as STATUS closes the connection; a value NOW+N is the Unix time N seconds from now)
//	fake latency D | clock D | lifetime D               knobs (D like 50ms, +10m, -10m, 5m)
//	fake longtokens             tokens in GitHub's long format from now on
//	fake revoke-all             every issued token stops working
//	fake minted REPOS [PERMS]   the last mint asked for exactly REPOS ("*" = all) and PERMS ("-" = none)
//	fake tokens N               N tokens were issued in all
//	fake revoked N              N of the issued tokens have been revoked
//	fake install-many SLUG N PREFIX   install SLUG on N more user accounts, PREFIX1 ... PREFIXN
//	fake env NAME               set $NAME to the last issued token (to check it never leaks)
//	fake rename OLD NEW         rename or transfer a repository (OWNER/NAME); the old name redirects
//	fake lag D                  GitHub refuses new tokens for D after minting (replication lag)
//	fake appid-only             the server refuses a Client ID as JWT issuer (older GHES)
//	(fault also takes message=TEXT: the JSON body's message)
//	fake pem NAME LINENAME      set $NAME to ci-bot's private key (PEM), $LINENAME to its first base64 line
func cmdFake(ts *testscript.TestScript, neg bool, args []string) {
	w := ts.Value(fakeKey{}).(*world)
	if len(args) == 0 {
		ts.Fatalf("usage: fake COMMAND ...")
	}
	if neg && args[0] != "count" && args[0] != "minted" {
		ts.Fatalf("fake %s does not take !", args[0])
	}
	srv := w.srv
	switch args[0] {
	case "count":
		if len(args) != 3 {
			ts.Fatalf("usage: fake count ROUTE N")
		}
		want, err := strconv.Atoi(args[2])
		ts.Check(err)
		var got int
		switch args[1] {
		case "api":
			got = srv.APICalls()
		case "git":
			got = srv.GitRequests()
		default:
			got = srv.Count(args[1])
		}
		if (got == want) == neg {
			ts.Fatalf("%s was called %d times; want %s%d\nrequests: %s", args[1], got, map[bool]string{true: "not ", false: ""}[neg], want, describeRequests(srv))
		}
	case "reset":
		srv.ResetCounters()
	case "app":
		app := srv.NewApp(args[1])
		w.apps[args[1]] = app
		ts.Check(os.WriteFile(ts.MkAbs(args[1]+".pem"), app.PEM, 0o600))
		ts.Setenv(strings.ToUpper(strings.ReplaceAll(args[1], "-", "_"))+"_ID", strconv.FormatInt(app.ID, 10))
	case "install":
		if len(args) < 5 {
			ts.Fatalf("usage: fake install SLUG ACCOUNT TYPE PERMS [REPO...]")
		}
		app := w.apps[args[1]]
		if app == nil {
			ts.Fatalf("no app %q", args[1])
		}
		inst := srv.Install(app, args[2], args[3], parsePerms(ts, args[4]), args[5:]...)
		w.insts = append(w.insts, inst)
		ts.Setenv("INSTALLATION_ID", strconv.FormatInt(inst.ID, 10))
	case "uninstall":
		n := 0
		for _, inst := range w.insts {
			if strings.EqualFold(inst.Account, args[1]) {
				srv.Uninstall(inst)
				n++
			}
		}
		if n == 0 {
			ts.Fatalf("nothing installed on %s", args[1])
		}
	case "repo":
		ts.Check(srv.AddRepo(args[1]))
	case "fault":
		if len(args) < 3 {
			ts.Fatalf("usage: fake fault ROUTE STATUS [TIMES] [Header:value...]")
		}
		f := fakegithub.Fault{Route: args[1], Header: map[string]string{}}
		if args[1] == "api" {
			f.Route = ""
		}
		if args[2] == "drop" {
			f.Drop = true
		} else {
			status, err := strconv.Atoi(args[2])
			ts.Check(err)
			f.Status = status
		}
		for _, a := range args[3:] {
			if n, err := strconv.Atoi(a); err == nil {
				f.Times = n
				continue
			}
			if msg, ok := strings.CutPrefix(a, "message="); ok {
				b, _ := json.Marshal(map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest"})
				f.Body = string(b)
				continue
			}
			k, v, ok := strings.Cut(a, ":")
			if !ok {
				ts.Fatalf("bad fault argument %q", a)
			}
			if secs, ok := strings.CutPrefix(v, "NOW+"); ok { // a Unix time SECS from now
				n, err := strconv.Atoi(secs)
				ts.Check(err)
				v = strconv.FormatInt(time.Now().Add(time.Duration(n)*time.Second).Unix(), 10)
			}
			f.Header[k] = v
		}
		srv.AddFault(f)
	case "latency", "clock", "lifetime":
		d, err := time.ParseDuration(args[1])
		ts.Check(err)
		map[string]func(time.Duration){"latency": srv.SetLatency, "clock": srv.SetClockOffset, "lifetime": srv.SetTokenLifetime}[args[0]](d)
	case "longtokens":
		srv.SetLongTokens(true)
	case "revoke-all":
		srv.RevokeAll()
	case "minted":
		mints := srv.Mints()
		if len(mints) == 0 {
			ts.Fatalf("nothing was minted")
		}
		last := mints[len(mints)-1]
		repos := "*"
		if last.Repositories != nil {
			repos = strings.Join(last.Repositories, ",")
		}
		perms := "-"
		if len(last.Permissions) > 0 {
			var p []string
			for k, v := range last.Permissions {
				p = append(p, k+":"+v)
			}
			slices.Sort(p)
			perms = strings.Join(p, ",")
		}
		wantPerms := "-"
		if len(args) > 2 {
			wantPerms = args[2]
		}
		if (repos == args[1] && perms == wantPerms) == neg {
			ts.Fatalf("last mint asked for repositories %s permissions %s; want %s %s", repos, perms, args[1], wantPerms)
		}
	case "tokens":
		want, err := strconv.Atoi(args[1])
		ts.Check(err)
		if got := len(srv.Tokens()); got != want {
			ts.Fatalf("%d tokens issued; want %d", got, want)
		}
	case "revoked":
		if len(args) != 2 {
			ts.Fatalf("usage: fake revoked N")
		}
		want, err := strconv.Atoi(args[1])
		ts.Check(err)
		got := 0
		for _, t := range srv.Tokens() {
			if t.Revoked {
				got++
			}
		}
		if got != want {
			ts.Fatalf("%d tokens revoked; want %d", got, want)
		}
	case "install-many":
		if len(args) != 4 {
			ts.Fatalf("usage: fake install-many SLUG N PREFIX")
		}
		app := w.apps[args[1]]
		n, err := strconv.Atoi(args[2])
		if app == nil || err != nil {
			ts.Fatalf("usage: fake install-many SLUG N PREFIX (SLUG an app, N a number)")
		}
		for i := 1; i <= n; i++ {
			w.insts = append(w.insts, srv.Install(app, args[3]+strconv.Itoa(i), "User", map[string]string{"metadata": "read"}))
		}
	case "pem":
		if len(args) != 3 {
			ts.Fatalf("usage: fake pem NAME LINENAME")
		}
		pem := string(w.apps["ci-bot"].PEM)
		ts.Setenv(args[1], pem)
		ts.Setenv(args[2], strings.Split(pem, "\n")[1])
	case "env":
		toks := srv.Tokens()
		if len(toks) == 0 {
			ts.Fatalf("no token issued yet")
		}
		ts.Setenv(args[1], toks[len(toks)-1].Token)
	case "rename":
		if len(args) != 3 {
			ts.Fatalf("usage: fake rename OLD NEW")
		}
		ts.Check(srv.RenameRepo(args[1], args[2]))
	case "lag":
		d, err := time.ParseDuration(args[1])
		ts.Check(err)
		srv.SetReplicationLag(d)
	case "appid-only":
		srv.SetAppIDOnly(true)
	default:
		ts.Fatalf("unknown fake command %q", args[0])
	}
}

func parsePerms(ts *testscript.TestScript, s string) map[string]string {
	perms := map[string]string{}
	for _, p := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(p, ":")
		if !ok {
			ts.Fatalf("bad permission %q", p)
		}
		perms[k] = v
	}
	return perms
}

func describeRequests(srv *fakegithub.Server) string {
	var b strings.Builder
	for _, r := range srv.Requests() {
		fmt.Fprintf(&b, "\n  %s %d", r.Route, r.Status)
	}
	return b.String()
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}
