package fakegithub

import (
	"bytes"
	"crypto/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitClient runs git as a user would, isolated from the machine's git
// configuration, with a credential helper that answers from a token file.
type gitClient struct {
	t         *testing.T
	env       []string
	home      string
	tokenFile string
}

func newGitClient(t *testing.T, s *Server) *gitClient {
	t.Helper()
	home := t.TempDir()
	g := &gitClient{t: t, home: home, tokenFile: filepath.Join(home, "token")}
	g.env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"GIT_CONFIG_GLOBAL=" + filepath.Join(home, "gitconfig"),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_SSL_CAINFO=" + s.CAFile,
		"LC_ALL=C",
	}
	if err := os.WriteFile(filepath.Join(home, "gitconfig"), []byte("[user]\n\tname = Tester\n\temail = tester@example.invalid\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return g
}

// useToken installs a credential helper that hands out tok ("" removes it).
func (g *gitClient) useToken(tok string) {
	g.t.Helper()
	if err := os.WriteFile(g.tokenFile, []byte(tok), 0o600); err != nil {
		g.t.Fatal(err)
	}
	helper := `!f() { test "$1" = get || exit 0; echo username=x-access-token; echo "password=$(cat '` + g.tokenFile + `')"; }; f`
	g.run("", "config", "--global", "--replace-all", "credential.helper", helper)
}

func (g *gitClient) noHelper() {
	g.t.Helper()
	g.run("", "config", "--global", "--unset-all", "credential.helper")
}

// try runs git and returns its combined output and error.
func (g *gitClient) try(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Env = g.env
	cmd.Dir = dir
	if dir == "" {
		cmd.Dir = g.home
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (g *gitClient) run(dir string, args ...string) string {
	g.t.Helper()
	out, err := g.try(dir, args...)
	if err != nil {
		g.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func TestGitCloneAndPush(t *testing.T) {
	s := newServer(t)
	app := s.NewApp("builder")
	addRepos(t, s, "acme/widgets", "acme/gadgets")
	inst := s.Install(app, "acme", "Organization", map[string]string{"contents": "write"})
	g := newGitClient(t, s)

	writeTok := mintToken(t, s, app, inst, `{"repositories":["widgets"]}`)
	readTok := mintToken(t, s, app, inst, `{"repositories":["widgets"],"permissions":{"contents":"read"}}`)
	metaTok := mintToken(t, s, app, inst, `{"permissions":{"metadata":"read"}}`)
	s.ResetCounters()

	// Clone and push with a write token.
	g.useToken(writeTok)
	work := filepath.Join(g.home, "widgets")
	g.run("", "clone", "--quiet", s.URL+"/acme/widgets.git", work)
	readme, err := os.ReadFile(filepath.Join(work, "README.md"))
	if err != nil || !strings.Contains(string(readme), "acme/widgets") {
		t.Fatalf("README.md = %q, %v", readme, err)
	}
	if err := os.WriteFile(filepath.Join(work, "new.txt"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	g.run(work, "add", "new.txt")
	g.run(work, "commit", "--quiet", "-m", "add new.txt")
	g.run(work, "push", "--quiet", "origin", "main")
	local := strings.TrimSpace(g.run(work, "rev-parse", "HEAD"))
	remote := strings.TrimSpace(g.run("", "--git-dir", s.RepoPath("acme/widgets"), "rev-parse", "main"))
	if local != remote {
		t.Fatalf("pushed %s, bare repository has %s", local, remote)
	}
	if got := s.Count(RouteGitReceivePack); got != 1 {
		t.Errorf("Count(receive-pack) = %d, want 1", got)
	}
	if s.Count(RouteGitUploadPack) < 1 || s.Count(RouteGitInfoRefsUpload) < 1 || s.Count(RouteGitInfoRefsReceive) < 1 {
		t.Errorf("git routes not counted: %+v", s.Requests())
	}
	if s.APICalls() != 0 || s.GitRequests() != len(s.Requests()) {
		t.Errorf("APICalls %d, GitRequests %d, log %d", s.APICalls(), s.GitRequests(), len(s.Requests()))
	}
	for _, r := range s.Requests() {
		if !r.Git {
			t.Errorf("git request logged as REST: %+v", r)
		}
	}

	// A push larger than git's http.postBuffer arrives chunked.
	big := make([]byte, 3<<20)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	g.run(work, "add", "big.bin")
	g.run(work, "commit", "--quiet", "-m", "add big.bin")
	g.run(work, "push", "--quiet", "origin", "main")
	if got := strings.TrimSpace(g.run("", "--git-dir", s.RepoPath("acme/widgets"), "rev-parse", "main:big.bin")); got != strings.TrimSpace(g.run(work, "rev-parse", "HEAD:big.bin")) {
		t.Fatalf("big push: bare repository has blob %s", got)
	}

	// Paths without .git and in another letter case reach the same repository.
	g.run("", "clone", "--quiet", s.URL+"/ACME/Widgets", filepath.Join(g.home, "widgets2"))
	if _, err := os.Stat(filepath.Join(g.home, "widgets2", "new.txt")); err != nil {
		t.Errorf("second clone lacks the pushed file: %v", err)
	}

	fails := []struct {
		name    string
		token   string // "" = no credential helper
		args    []string
		wantOut string
		status  int
	}{
		{"token for another repository", writeTok, []string{"clone", s.URL + "/acme/gadgets.git", "x1"}, "Repository not found", 404},
		{"unknown repository", writeTok, []string{"clone", s.URL + "/acme/nothing.git", "x2"}, "Repository not found", 404},
		{"no credentials", "", []string{"clone", s.URL + "/acme/widgets.git", "x3"}, "could not read Username", 401},
		{"bad token", "ghs_000000000000000000000000000000000000", []string{"clone", s.URL + "/acme/widgets.git", "x4"}, "Invalid username or token", 401},
		{"token without contents", metaTok, []string{"clone", s.URL + "/acme/widgets.git", "x5"}, "Permission to acme/widgets.git denied to builder[bot]", 403},
		{"push with contents:read", readTok, []string{"-C", work, "push", "origin", "main:other"}, "Permission to acme/widgets.git denied to builder[bot]", 403},
	}
	for _, f := range fails {
		t.Run(f.name, func(t *testing.T) {
			if f.token == "" {
				g.noHelper()
			} else {
				g.useToken(f.token)
			}
			s.ResetCounters()
			out, err := g.try("", f.args...)
			if err == nil {
				t.Fatalf("git %v succeeded:\n%s", f.args, out)
			}
			t.Logf("git output:\n%s", out)
			if !strings.Contains(out, f.wantOut) {
				t.Errorf("output lacks %q:\n%s", f.wantOut, out)
			}
			log := s.Requests()
			if len(log) == 0 || log[len(log)-1].Status != f.status {
				t.Errorf("request log %+v, want last status %d", log, f.status)
			}
		})
	}

	// A read token can clone; revoked tokens cannot.
	g.useToken(readTok)
	g.run("", "clone", "--quiet", s.URL+"/acme/widgets.git", filepath.Join(g.home, "read"))
	s.RevokeAll()
	if out, err := g.try("", "clone", s.URL+"/acme/widgets.git", filepath.Join(g.home, "revoked")); err == nil {
		t.Fatalf("clone with a revoked token succeeded:\n%s", out)
	}
	if branches := g.run("", "--git-dir", s.RepoPath("acme/widgets"), "branch", "--list", "other"); branches != "" {
		t.Errorf("a refused push created a branch: %q", branches)
	}
}

func TestGitFaultAndHeaders(t *testing.T) {
	s := newServer(t)
	app := s.NewApp("builder")
	addRepos(t, s, "acme/widgets")
	inst := s.Install(app, "acme", "Organization", map[string]string{"contents": "read"})
	g := newGitClient(t, s)
	g.useToken(mintToken(t, s, app, inst, ""))

	s.AddFault(Fault{Route: RouteGitUploadPack, Status: 500})
	s.AddFault(Fault{Status: 500}) // REST-only: must not touch git
	out, err := g.try("", "clone", s.URL+"/acme/widgets.git", "one")
	if err == nil || !strings.Contains(out, "500") {
		t.Fatalf("clone through a 500 fault: %v\n%s", err, out)
	}
	g.run("", "clone", "--quiet", s.URL+"/acme/widgets.git", "two")
	if r := call(t, s, "GET", "/app", "", ""); r.status != 500 {
		t.Errorf("REST fault was consumed by git: %d", r.status)
	}

	// An anonymous request gets GitHub's Basic challenge.
	resp, err := s.Client().Get(s.URL + "/acme/widgets.git/info/refs?service=git-upload-pack")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != `Basic realm="GitHub"` {
		t.Errorf("anonymous: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	// The dumb protocol and unknown paths are not served.
	for _, p := range []string{"/acme/widgets.git/info/refs", "/acme/widgets.git/HEAD", "/acme", "/"} {
		resp, err := s.Client().Get(s.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, resp.StatusCode)
		}
	}
}

func TestAddRepo(t *testing.T) {
	s1 := newServer(t)
	s2 := newServer(t)
	for _, s := range []*Server{s1, s2} {
		if err := s.AddRepo("acme/widgets"); err != nil {
			t.Fatal(err)
		}
	}
	head := func(s *Server) string {
		out, err := exec.Command("git", "--git-dir", s.RepoPath("acme/widgets"), "rev-parse", "main").Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	if h1, h2 := head(s1), head(s2); h1 != h2 || len(h1) != 40 {
		t.Errorf("first commits differ: %s %s", h1, h2)
	}
	if s1.RepoPath("ACME/WIDGETS") != filepath.Join(s1.dir, "repos", "acme", "widgets.git") {
		t.Errorf("RepoPath = %s", s1.RepoPath("ACME/WIDGETS"))
	}
	for _, bad := range []string{"Acme/Widgets", "widgets", "a/b/c", "/b", "a/", "../x", "a/b.git", "a/.."} {
		if err := s1.AddRepo(bad); err == nil {
			t.Errorf("AddRepo(%q) succeeded", bad)
		}
	}
}
