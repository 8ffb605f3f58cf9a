package e2e

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/git-credential-ghapp/git-credential-ghapp/internal/devtool"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/fakegithub"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/testhome"
)

// The helper binaries, built once per test run from this module's ./cmd/... into binDir (one
// binary today; the front and the full helper side by side once there are two, which is where
// the front looks for the full helper).
var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// helperBinary builds the helper with `go build` (static, as install.sh does) and returns the
// path of git-credential-ghapp.
func helperBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "ghapp-e2e-bin-")
		if buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-trimpath", "-o", binDir+string(os.PathSeparator), "./cmd/...")
		cmd.Dir = moduleRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/...: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, "git-credential-ghapp"+devtool.Exe)
}

// moduleRoot is two levels up from this package (internal/e2e).
func moduleRoot() string {
	wd, _ := os.Getwd()
	return filepath.Join(wd, "..", "..")
}

// world is a fake GitHub and a throwaway home for git, the helper and the clients, with nothing
// of the developer's own settings.
type world struct {
	t      *testing.T
	srv    *fakegithub.Server
	dir    string
	helper string
	env    map[string]string
	apps   map[string]*fakegithub.App
}

func newWorld(t *testing.T) *world {
	t.Helper()
	helper := helperBinary(t)
	dir := t.TempDir()
	srv, err := fakegithub.New(fakegithub.Config{Dir: filepath.Join(dir, "fake")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	if err := os.MkdirAll(filepath.Join(dir, "work"), 0o700); err != nil {
		t.Fatal(err)
	}
	env, err := testhome.Env(dir, srv.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	maps.Copy(env, map[string]string{
		"PATH":                filepath.Dir(helper) + string(os.PathListSeparator) + os.Getenv("PATH"),
		"GIT_AUTHOR_NAME":     "Test",
		"GIT_AUTHOR_EMAIL":    "test@example.com",
		"GIT_COMMITTER_NAME":  "Test",
		"GIT_COMMITTER_EMAIL": "test@example.com",
		"GHAPP_HOSTNAME":      srv.Host,
		"LC_ALL":              "C",
	})
	return &world{t: t, srv: srv, dir: dir, helper: helper, env: env, apps: map[string]*fakegithub.App{}}
}

// environ is the whole environment of a child: only w.env (plus what the OS needs to run
// programs), never the developer's.
func (w *world) environ(extra ...string) []string {
	env := make([]string, 0, len(w.env)+len(extra)+2)
	for k, v := range w.env {
		env = append(env, k+"="+v)
	}
	if runtime.GOOS == "windows" {
		env = append(env, "SYSTEMROOT="+os.Getenv("SYSTEMROOT"))
	}
	return append(env, extra...)
}

// app registers an app, writes its key to DIR/SLUG.pem (0600) and returns the key's path.
func (w *world) app(slug string) (*fakegithub.App, string) {
	w.t.Helper()
	app := w.srv.NewApp(slug)
	w.apps[slug] = app
	pem := filepath.Join(w.dir, slug+".pem")
	if err := os.WriteFile(pem, app.PEM, 0o600); err != nil {
		w.t.Fatal(err)
	}
	return app, pem
}

// helperFor configures git to use app (key in pem) for the URLs under https://HOST/OWNER, as
// README's "Two apps" shows.
func (w *world) helperFor(owner string, app *fakegithub.App, pem string) {
	w.t.Helper()
	w.git("", "config", "--global", "credential.https://"+w.srv.Host+"/"+owner+".helper",
		w.helper+" --app-id "+strconv.FormatInt(app.ID, 10)+" --key-file "+pem)
	w.git("", "config", "--global", "credential.https://"+w.srv.Host+".useHttpPath", "true")
}

// run runs name with args in dir (relative to w.dir) and fails the test on error.
func (w *world) run(dir, name string, args ...string) string {
	w.t.Helper()
	out, err := w.try(dir, name, args...)
	if err != nil {
		w.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// try runs name with args in dir and returns its combined output.
func (w *world) try(dir, name string, args ...string) (string, error) {
	w.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = w.environ()
	cmd.Dir = filepath.Join(w.dir, dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (w *world) git(dir string, args ...string) string {
	w.t.Helper()
	return w.run(dir, "git", args...)
}

// seed commits files to the repository fullName directly in the fake's bare repository (a local
// push, no credentials involved), and tags the commit when tag is not "".
func (w *world) seed(fullName string, files map[string]string, tag string) {
	w.t.Helper()
	work := filepath.Join("seed", fullName)
	w.git("", "clone", "-q", w.srv.RepoPath(fullName), work)
	for name, content := range files {
		p := filepath.Join(w.dir, work, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			w.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			w.t.Fatal(err)
		}
	}
	w.git(work, "add", "-A")
	w.git(work, "commit", "-q", "-m", "seed")
	w.git(work, "push", "-q", "origin", "HEAD:main")
	if tag != "" {
		w.git(work, "tag", tag)
		w.git(work, "push", "-q", "origin", tag)
	}
}

// minted returns the repositories of each mint so far, as "installation:repo,repo".
func (w *world) minted() []string {
	var out []string
	for _, m := range w.srv.Mints() {
		out = append(out, strconv.FormatInt(m.InstallationID, 10)+":"+strings.Join(m.Repositories, ","))
	}
	return out
}
