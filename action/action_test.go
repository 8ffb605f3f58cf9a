// Package action_test runs the GitHub Action (action.yml, main.js, post.js) with node the way the
// Actions runner does: INPUT_* variables, the GITHUB_OUTPUT, GITHUB_STATE, GITHUB_ENV and
// GITHUB_PATH files, workflow commands on stdout, STATE_* for the post step, against the fake
// GitHub, with the real git and the helper built by the action itself from this checkout.
package action_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/internal/fakegithub"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/testhome"
)

// job is one GitHub Actions job on a runner: its files, its environment, and the fake GitHub.
type job struct {
	t         *testing.T
	srv       *fakegithub.Server
	app       *fakegithub.App
	inst      *fakegithub.Installation
	dir       string
	workspace string
	temp      string
	files     map[string]string // OUTPUT, STATE, ENV, PATH -> file
	base      map[string]string // what every step sees
	inputs    map[string]string
}

func newJob(t *testing.T) *job {
	t.Helper()
	for _, tool := range []string{"node", "git", "go"} {
		testhome.Need(t, tool, ".ci/run installs it")
	}
	dir := t.TempDir()
	srv, err := fakegithub.New(fakegithub.Config{Dir: filepath.Join(dir, ".fake")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	app := srv.NewApp("ci-bot")
	for _, r := range []string{"acme/app", "acme/lib"} {
		if err := srv.AddRepo(r); err != nil {
			t.Fatal(err)
		}
	}
	inst := srv.Install(app, "acme", "Organization", map[string]string{"contents": "write", "metadata": "read"})
	j := &job{t: t, srv: srv, app: app, inst: inst, dir: dir, files: map[string]string{}}
	j.workspace = filepath.Join(dir, "work", "app", "app")
	j.temp = filepath.Join(dir, "work", "_temp")
	for _, d := range []string{j.workspace, j.temp} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"OUTPUT", "STATE", "ENV", "PATH"} {
		f := filepath.Join(j.temp, "_runner_file_commands", strings.ToLower(k)+"_1")
		if err := os.MkdirAll(filepath.Dir(f), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		j.files[k] = f
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	goenv := func(name string) string {
		out, err := exec.Command("go", "env", name).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", name, err)
		}
		return strings.TrimSpace(string(out))
	}
	if j.base, err = testhome.Env(dir, srv.CAFile); err != nil {
		t.Fatal(err)
	}
	maps.Copy(j.base, map[string]string{
		"PATH": os.Getenv("PATH"),
		// The runner's Go, with this machine's caches: no network, no cold build.
		"GOCACHE":     goenv("GOCACHE"),
		"GOMODCACHE":  goenv("GOMODCACHE"),
		"GOPROXY":     "off",
		"GOTOOLCHAIN": "local",
		"GOFLAGS":     "",
		// What the runner sets for every step of a job.
		"CI":                       "true",
		"GITHUB_ACTIONS":           "true",
		"GITHUB_ACTION_PATH":       root,
		"GITHUB_ACTION_REPOSITORY": "git-credential-ghapp/git-credential-ghapp",
		"GITHUB_ACTION_REF":        "v0.0.0-test",
		"GITHUB_WORKSPACE":         j.workspace,
		"GITHUB_REPOSITORY":        "acme/app",
		"GITHUB_REPOSITORY_OWNER":  "acme",
		"GITHUB_SERVER_URL":        "https://" + srv.Host,
		"GITHUB_API_URL":           srv.APIURL,
		"RUNNER_TEMP":              j.temp,
	})
	// Inputs as the runner passes them: every declared input, defaults applied.
	j.inputs = map[string]string{
		"APP-ID": "", "CLIENT-ID": app.ClientID, "PRIVATE-KEY": string(app.PEM), "SIGNER": "",
		"OWNER": "", "REPOSITORIES": "", "SKIP-TOKEN-REVOKE": "false", "GITHUB-API-URL": srv.APIURL,
		"PERMISSION-CONTENTS": "read",
	}
	return j
}

func (j *job) environ(m ...map[string]string) []string {
	var env []string
	for _, kv := range m {
		for k, v := range kv {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// step runs node on script as the runner runs an action's main or post step.
func (j *job) step(script string, extra map[string]string) (stdout string, code int) {
	j.t.Helper()
	inputs := map[string]string{}
	for k, v := range j.inputs {
		inputs["INPUT_"+k] = v
	}
	files := map[string]string{}
	for k, f := range j.files {
		files["GITHUB_"+k] = f
	}
	cmd := exec.Command("node", filepath.Join(j.base["GITHUB_ACTION_PATH"], "action", script))
	cmd.Dir = j.workspace
	cmd.Env = j.environ(j.base, j.laterEnv(), files, inputs, extra)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		j.t.Fatal(err)
	}
	j.t.Logf("node %s: exit %d\nstdout:\n%s\nstderr:\n%s", script, code, out.String(), errb.String())
	return out.String(), code
}

// parseFileCommands reads a GITHUB_OUTPUT/STATE/ENV file: NAME=VALUE lines and NAME<<DELIM blocks.
func parseFileCommands(t *testing.T, file string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		if name, delim, ok := strings.Cut(line, "<<"); ok && !strings.Contains(name, "=") {
			var val []string
			closed := false
			for sc.Scan() {
				if sc.Text() == delim {
					closed = true
					break
				}
				val = append(val, sc.Text())
			}
			if !closed {
				t.Fatalf("%s: %s<<%s is never closed", file, name, delim)
			}
			m[name] = strings.Join(val, "\n")
			continue
		}
		name, val, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: malformed line %q", file, line)
		}
		m[name] = val
	}
	return m
}

// laterEnv is what a later step of the job sees of the action: GITHUB_ENV's variables, and
// GITHUB_PATH's directories in front of PATH.
func (j *job) laterEnv() map[string]string {
	env := parseFileCommands(j.t, j.files["ENV"])
	data, err := os.ReadFile(j.files["PATH"])
	if err != nil {
		j.t.Fatal(err)
	}
	path := j.base["PATH"]
	for _, d := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if d != "" {
			path = d + string(os.PathListSeparator) + path
		}
	}
	env["PATH"] = path
	return env
}

// git runs git as a later step of the job would, in dir.
func (j *job) git(dir string, env map[string]string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = j.environ(j.base, env)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (j *job) state() map[string]string {
	st := map[string]string{}
	for k, v := range parseFileCommands(j.t, j.files["STATE"]) {
		st["STATE_"+k] = v
	}
	return st
}

func masked(stdout string) []string {
	var m []string
	for _, l := range strings.Split(stdout, "\n") {
		if v, ok := strings.CutPrefix(l, "::add-mask::"); ok {
			m = append(m, v)
		}
	}
	return m
}

// TestActionMainAndPost: the main step masks and outputs a token and the bot's identity, and
// configures git so that a later step clones, commits as the bot and pushes, each repository
// with a token of its own, fresh past the token's life; the post step revokes every token the job
// minted and leaves no key behind.
func TestActionMainAndPost(t *testing.T) {
	j := newJob(t)
	stdout, code := j.step("main.js", nil)
	if code != 0 || strings.Contains(stdout, "::error::") {
		t.Fatalf("main step failed (exit %d)", code)
	}
	outputs := parseFileCommands(t, j.files["OUTPUT"])
	token := outputs["token"]
	if !strings.HasPrefix(token, "ghs_") {
		t.Fatalf("token output %q is not an installation token", token)
	}
	masks := masked(stdout)
	if !slices.Contains(masks, token) {
		t.Errorf("the token is not masked (::add-mask::)")
	}
	for _, l := range strings.Split(stdout, "\n") {
		if strings.Contains(l, token) && l != "::add-mask::"+token {
			t.Errorf("the token appears in the log: %q", l)
		}
	}
	for _, l := range strings.Split(string(j.app.PEM), "\n") {
		if strings.HasPrefix(l, "MII") && !slices.Contains(masks, l) {
			t.Errorf("the private key's line %q is not masked", l)
		}
	}
	want := map[string]string{
		"installation-id": strconv.FormatInt(j.inst.ID, 10),
		"app-slug":        "ci-bot",
		"user-id":         strconv.FormatInt(j.app.BotUserID(), 10),
		"commit-name":     "ci-bot[bot]",
		"commit-email":    fmt.Sprintf("%d+ci-bot[bot]@users.noreply.127.0.0.1", j.app.BotUserID()),
	}
	for k, v := range want {
		if outputs[k] != v {
			t.Errorf("output %s = %q, want %q", k, outputs[k], v)
		}
	}
	// The token output is for the current repository, narrowed by permission-contents.
	mints := j.srv.Mints()
	if len(mints) != 1 || !slices.Equal(mints[0].Repositories, []string{"app"}) || mints[0].Permissions["contents"] != "read" || len(mints[0].Permissions) != 1 {
		t.Fatalf("mints = %+v, want one for app with contents:read", mints)
	}

	// No secret in the files the runner keeps, the key in a 0600 file in a 0700 directory.
	for k, f := range j.files {
		data, _ := os.ReadFile(f)
		if k != "OUTPUT" && bytes.Contains(data, []byte(token)) {
			t.Errorf("GITHUB_%s holds the token", k)
		}
		if bytes.Contains(data, []byte("PRIVATE KEY")) {
			t.Errorf("GITHUB_%s holds the private key", k)
		}
	}
	later := j.laterEnv()
	keyFile := later["GHAPP_PRIVATE_KEY_FILE"]
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file %q: %v, %v", keyFile, fi, err)
	}
	if fi, err := os.Stat(filepath.Dir(keyFile)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("the job's directory: %v, %v", fi, err)
	}
	if !strings.HasPrefix(keyFile, j.temp+string(os.PathSeparator)) {
		t.Errorf("key file %s is not under RUNNER_TEMP", keyFile)
	}

	// A later step: git clones another repository of the owner with a token of its own, and
	// the config git sees names the helper.
	host := j.srv.Host
	if out, err := j.git(j.dir, later, "config", "--get-urlmatch", "credential.useHttpPath", "https://"+host+"/acme/lib"); err != nil || strings.TrimSpace(out) != "true" {
		t.Errorf("useHttpPath for the host = %q, %v", out, err)
	}
	j.srv.SetTokenLifetime(5 * time.Minute) // tokens that die within the helper's 10-minute margin
	if out, err := j.git(j.dir, later, "clone", "-q", "https://"+host+"/acme/lib.git", "lib"); err != nil {
		t.Fatalf("git clone through the configured helper: %v\n%s", err, out)
	}
	mints = j.srv.Mints()
	if len(mints) != 2 || !slices.Equal(mints[1].Repositories, []string{"lib"}) || mints[1].Permissions != nil {
		t.Fatalf("mints = %+v, want a second one for lib alone, with the installation's permissions", mints)
	}
	// Commit as the app's bot, from the outputs, and push: a token that is about to expire is
	// not reused, git gets a fresh one.
	lib := filepath.Join(j.dir, "lib")
	if out, err := j.git(lib, later, "-c", "user.name="+outputs["commit-name"], "-c", "user.email="+outputs["commit-email"], "commit", "-q", "--allow-empty", "-m", "from the job"); err != nil {
		t.Fatalf("git commit: %v\n%s", err, out)
	}
	if out, err := j.git(lib, later, "push", "-q", "origin", "HEAD"); err != nil {
		t.Fatalf("git push: %v\n%s", err, out)
	}
	if n := len(j.srv.Mints()); n < 3 {
		t.Errorf("%d mints: the push reused a token about to expire", n)
	}
	if out, err := j.git(lib, later, "log", "-1", "--format=%an <%ae>"); err != nil || strings.TrimSpace(out) != want["commit-name"]+" <"+want["commit-email"]+">" {
		t.Errorf("commit author = %q, %v", out, err)
	}

	// The post step revokes every token of the job, and removes the key.
	issued := len(j.srv.Tokens())
	stdout, code = j.step("post.js", j.state())
	if code != 0 || strings.Contains(stdout, "::warning::") || strings.Contains(stdout, "::error::") {
		t.Fatalf("post step: exit %d", code)
	}
	// Every scope's token is revoked. A token the helper replaced because it had less than its
	// 10-minute margin left is no longer in the cache, and dies within those minutes.
	newest := map[string]fakegithub.IssuedToken{}
	for _, tk := range j.srv.Tokens() {
		newest[strings.Join(tk.Repositories, ",")+"|"+fmt.Sprint(tk.Permissions)] = tk
	}
	if len(newest) != 2 {
		t.Errorf("%d scopes, want 2 (the token output's, lib's)", len(newest))
	}
	for scope, tk := range newest {
		if !tk.Revoked {
			t.Errorf("the token for %s was not revoked", scope)
		}
	}
	if issued < 3 {
		t.Errorf("only %d tokens were issued", issued)
	}
	if _, err := os.Stat(keyFile); !os.IsNotExist(err) {
		t.Errorf("the key file is still there after the post step: %v", err)
	}
}

// TestActionPostRevokeFailureIsAWarning: GitHub refusing the revoke is a warning, and the job
// does not fail; skip-token-revoke leaves the tokens alone.
func TestActionPostRevokeFailureIsAWarning(t *testing.T) {
	j := newJob(t)
	if _, code := j.step("main.js", nil); code != 0 {
		t.Fatal("main step failed")
	}
	j.srv.AddFault(fakegithub.Fault{Route: "DELETE /installation/token", Status: 500, Times: 100})
	stdout, code := j.step("post.js", j.state())
	if code != 0 {
		t.Fatalf("post step failed (exit %d) on a failed revoke", code)
	}
	if !strings.Contains(stdout, "::warning::could not revoke every token this job minted") {
		t.Errorf("no warning for the failed revoke")
	}

	j2 := newJob(t)
	j2.inputs["SKIP-TOKEN-REVOKE"] = "true"
	if _, code := j2.step("main.js", nil); code != 0 {
		t.Fatal("main step failed")
	}
	if stdout, code := j2.step("post.js", j2.state()); code != 0 || strings.Contains(stdout, "::warning::") {
		t.Fatalf("post step with skip-token-revoke: exit %d", code)
	}
	if j2.srv.Count("DELETE /installation/token") != 0 || j2.srv.Tokens()[0].Revoked {
		t.Errorf("skip-token-revoke: the token was revoked")
	}
}

// TestActionCheckoutHeader: actions/checkout's persisted Authorization header (an includeIf'd
// file under RUNNER_TEMP, as checkout v6 writes it) would win over the helper; the action says so,
// without printing the header, and resets it for the later steps.
func TestActionCheckoutHeader(t *testing.T) {
	j := newJob(t)
	host := j.srv.Host
	ws := j.workspace
	if out, err := j.git(ws, nil, "init", "-q"); err != nil {
		t.Fatal(err, out)
	}
	if out, err := j.git(ws, nil, "remote", "add", "origin", "https://"+host+"/acme/app.git"); err != nil {
		t.Fatal(err, out)
	}
	secret := base64.StdEncoding.EncodeToString([]byte("x-access-token:ghs_JobTokenFromCheckout0000000000000000"))
	credFile := filepath.Join(j.temp, "git-credentials-0d1e2f.config")
	if err := os.WriteFile(credFile, []byte(fmt.Sprintf("[http \"https://%s/\"]\n\textraheader = AUTHORIZATION: basic %s\n", host, secret)), 0o600); err != nil {
		t.Fatal(err)
	}
	gitDir := filepath.ToSlash(filepath.Join(ws, ".git"))
	if out, err := j.git(ws, nil, "config", "--local", "includeIf.gitdir:"+gitDir+".path", credFile); err != nil {
		t.Fatal(err, out)
	}
	// Without the action's reset, git sends checkout's header and GitHub refuses it.
	plain := map[string]string{"GIT_CONFIG_COUNT": "0"}
	if out, err := j.git(ws, plain, "ls-remote", "origin"); err == nil {
		t.Fatalf("ls-remote with checkout's header succeeded: the test does not reproduce the header winning\n%s", out)
	}

	stdout, code := j.step("main.js", nil)
	if code != 0 {
		t.Fatal("main step failed")
	}
	wantKey := "http.https://" + host + "/.extraheader"
	var warned bool
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "::warning::") && strings.Contains(l, wantKey) && strings.Contains(l, credFile) && strings.Contains(l, "persist-credentials: false") {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no warning naming %s, its file and persist-credentials: false", wantKey)
	}
	if strings.Contains(stdout, secret) {
		t.Errorf("the header's value is in the log")
	}
	later := j.laterEnv()
	if out, err := j.git(ws, later, "ls-remote", "origin"); err != nil {
		t.Fatalf("ls-remote after the action: %v\n%s", err, out)
	}
	// The reset is what makes it work: without the last GIT_CONFIG entry, checkout's header wins again.
	n, _ := strconv.Atoi(later["GIT_CONFIG_COUNT"])
	if later[fmt.Sprintf("GIT_CONFIG_KEY_%d", n-1)] != wantKey {
		t.Fatalf("the last git config entry is %q, want %s", later[fmt.Sprintf("GIT_CONFIG_KEY_%d", n-1)], wantKey)
	}
	later["GIT_CONFIG_COUNT"] = strconv.Itoa(n - 1)
	if _, err := j.git(ws, later, "ls-remote", "origin"); err == nil {
		t.Errorf("ls-remote succeeded without the reset: the header did not win after all")
	}
}

// TestActionRepositories: a repositories input listing several names (comma or newline
// separated, as create-github-app-token reads it) gives ONE token output covering them all,
// minted for exactly that set; later git steps still get a token per repository.
func TestActionRepositories(t *testing.T) {
	j := newJob(t)
	j.inputs["REPOSITORIES"] = " app,\nlib\n,"
	stdout, code := j.step("main.js", nil)
	if code != 0 || strings.Contains(stdout, "::error::") {
		t.Fatalf("main step failed (exit %d)", code)
	}
	token := parseFileCommands(t, j.files["OUTPUT"])["token"]
	if !strings.HasPrefix(token, "ghs_") || !slices.Contains(masked(stdout), token) {
		t.Fatalf("token output %q is not a masked installation token", token)
	}
	mints := j.srv.Mints()
	if len(mints) != 1 || !slices.Equal(mints[0].Repositories, []string{"app", "lib"}) || mints[0].Permissions["contents"] != "read" {
		t.Fatalf("mints = %+v, want one for app and lib together, with contents:read", mints)
	}
	// The output works for both repositories (git given the token alone, no helper).
	for _, repo := range []string{"app", "lib"} {
		u := "https://x-access-token:" + token + "@" + j.srv.Host + "/acme/" + repo + ".git"
		if out, err := j.git(j.dir, nil, "ls-remote", u, "HEAD"); err != nil {
			t.Errorf("ls-remote acme/%s with the token output: %v\n%s", repo, err, strings.ReplaceAll(out, token, "TOKEN"))
		}
	}
	// A later git step gets a token of its own for the one repository it touches.
	later := j.laterEnv()
	if out, err := j.git(j.dir, later, "clone", "-q", "https://"+j.srv.Host+"/acme/lib.git", "lib"); err != nil {
		t.Fatalf("git clone through the configured helper: %v\n%s", err, out)
	}
	mints = j.srv.Mints()
	if len(mints) != 2 || !slices.Equal(mints[1].Repositories, []string{"lib"}) || mints[1].Permissions != nil {
		t.Fatalf("mints = %+v, want a second one for lib alone, with the installation's permissions", mints)
	}
	if stdout, code := j.step("post.js", j.state()); code != 0 || strings.Contains(stdout, "::warning::") {
		t.Fatalf("post step: exit %d", code)
	}
	for _, tk := range j.srv.Tokens() {
		if !tk.Revoked {
			t.Errorf("token for %v not revoked by the post step", tk.Repositories)
		}
	}
}

// TestActionOwnerAlone: owner without repositories gives a token output for the owner's whole
// installation, as create-github-app-token's does; git steps still get one per repository.
func TestActionOwnerAlone(t *testing.T) {
	j := newJob(t)
	j.inputs["OWNER"] = "acme"
	stdout, code := j.step("main.js", nil)
	if code != 0 || strings.Contains(stdout, "::error::") {
		t.Fatalf("main step failed (exit %d)", code)
	}
	if token := parseFileCommands(t, j.files["OUTPUT"])["token"]; !strings.HasPrefix(token, "ghs_") {
		t.Fatalf("token output %q is not an installation token", token)
	}
	mints := j.srv.Mints()
	if len(mints) != 1 || mints[0].Repositories != nil || mints[0].Permissions["contents"] != "read" {
		t.Fatalf("mints = %+v, want one for the whole installation, with contents:read", mints)
	}
	if out, err := j.git(j.dir, j.laterEnv(), "ls-remote", "https://"+j.srv.Host+"/acme/lib.git", "HEAD"); err != nil {
		t.Fatalf("git ls-remote through the configured helper: %v\n%s", err, out)
	}
	if mints = j.srv.Mints(); len(mints) != 2 || !slices.Equal(mints[1].Repositories, []string{"lib"}) {
		t.Fatalf("mints = %+v, want a second one for lib alone", mints)
	}
}

// TestActionInputErrors: a missing app id or key, a repository of another owner, an unknown
// permission level: one ::error:: line that says what to do, and a failed step.
func TestActionInputErrors(t *testing.T) {
	j := newJob(t)
	for name, c := range map[string]struct {
		inputs map[string]string
		want   string
	}{
		"no app":      {map[string]string{"CLIENT-ID": ""}, "::error::give client-id (or app-id)"},
		"no key":      {map[string]string{"PRIVATE-KEY": ""}, "::error::give private-key"},
		"key+signer":  {map[string]string{"SIGNER": "ssh-agent:"}, "::error::give private-key or signer, not both"},
		"bad level":   {map[string]string{"PERMISSION-ISSUES": "all"}, `::error::input permission-issues: "all" is not a permission level`},
		"other owner": {map[string]string{"REPOSITORIES": "umbrella/app"}, "::error::repositories: umbrella/app is not a repository of acme"},
		"not a key":   {map[string]string{"PRIVATE-KEY": "hunter2"}, "::error::private-key is not a PEM private key"},
		"api url":     {map[string]string{"GITHUB-API-URL": "http://" + j.srv.Host + "/api/v3"}, "must start with https://"},
	} {
		t.Run(name, func(t *testing.T) {
			saved := j.inputs
			j.inputs = map[string]string{}
			for k, v := range saved {
				j.inputs[k] = v
			}
			for k, v := range c.inputs {
				j.inputs[k] = v
			}
			defer func() { j.inputs = saved }()
			stdout, code := j.step("main.js", nil)
			if code == 0 || !strings.Contains(stdout, c.want) {
				t.Errorf("exit %d, want failure with %q", code, c.want)
			}
			for _, l := range strings.Split(stdout, "\n") {
				if strings.Contains(l, "hunter2") && l != "::add-mask::hunter2" {
					t.Errorf("the key input is in the log: %q", l)
				}
			}
		})
	}
}

// TestActionWithoutGo: on a runner without Go, an action pinned to a release tag downloads that
// release's archive for the platform (made here by ghapp-release, served over TLS), checks it
// against SHA256SUMS, and uses it; a damaged download, or an action not pinned to a tag, is a
// clear error.
func TestActionWithoutGo(t *testing.T) {
	j := newJob(t)
	root := j.base["GITHUB_ACTION_PATH"]
	dist := filepath.Join(j.dir, "dist")
	build := exec.Command("go", "run", "./internal/cmd/ghapp-release", "-version", "v1.2.3", "-targets", runtime.GOOS+"/"+runtime.GOARCH, "-out", dist)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("ghapp-release: %v\n%s", err, out)
	}
	const repo = "git-credential-ghapp/git-credential-ghapp"
	var tamper atomic.Bool
	releases := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, "/"+repo+"/releases/download/v1.2.3/")
		data, err := os.ReadFile(filepath.Join(dist, filepath.Base(name)))
		if !ok || err != nil {
			http.NotFound(w, r)
			return
		}
		if tamper.Load() && name != "SHA256SUMS" {
			data = append(data, 0)
		}
		w.Write(data)
	}))
	defer releases.Close()
	ca := filepath.Join(j.dir, "releases-ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: releases.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	// A PATH with node, git and tar, and no go.
	nogo := filepath.Join(j.dir, "nogo")
	if err := os.Mkdir(nogo, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"node", "git", "tar", "gzip", "sh"} {
		if p, err := exec.LookPath(tool); err == nil {
			if err := os.Symlink(p, filepath.Join(nogo, tool)); err != nil {
				t.Fatal(err)
			}
		}
	}
	j.base["PATH"] = nogo
	j.base["GITHUB_SERVER_URL"] = releases.URL
	j.base["GITHUB_ACTION_REF"] = "v1.2.3"
	j.base["NODE_EXTRA_CA_CERTS"] = ca

	stdout, code := j.step("main.js", nil)
	if code != 0 || !strings.Contains(stdout, "downloading "+releases.URL+"/"+repo+"/releases/download/v1.2.3/git-credential-ghapp_v1.2.3_") {
		t.Fatalf("main step without Go: exit %d", code)
	}
	later := j.laterEnv()
	binDir, _, _ := strings.Cut(later["PATH"], string(os.PathListSeparator)) // GITHUB_PATH's entry
	ver := exec.Command(filepath.Join(binDir, "git-credential-ghapp"), "version")
	ver.Env = j.environ(j.base, later)
	if out, err := ver.CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "git-credential-ghapp v1.2.3 ") {
		t.Errorf("the helper on PATH is not the release's: %q, %v", out, err)
	}
	if out, err := j.git(j.dir, later, "clone", "-q", "https://"+j.srv.Host+"/acme/lib.git", "lib"); err != nil {
		t.Fatalf("git clone through the downloaded helper: %v\n%s", err, out)
	}

	// A download that does not match SHA256SUMS is refused before anything is unpacked.
	tamper.Store(true)
	for _, f := range j.files {
		os.WriteFile(f, nil, 0o600)
	}
	stdout, code = j.step("main.js", nil)
	if code == 0 || !strings.Contains(stdout, "does not match the release's SHA256SUMS") {
		t.Errorf("a damaged archive: exit %d", code)
	}
	// Not pinned to a release: say how to fix it.
	j.base["GITHUB_ACTION_REF"] = "main"
	stdout, code = j.step("main.js", nil)
	if code == 0 || !strings.Contains(stdout, "add actions/setup-go before this step, or use a release tag") {
		t.Errorf("no Go and no release tag: exit %d", code)
	}
}
