package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/internal/devtool"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/fakegithub"
)

// Options change how the demo runs.
type Options struct {
	Keep   bool   // leave the temporary directory in place
	Helper string // a prebuilt git-credential-ghapp; "" = build one
}

// Outcome is what the demo observed, for its test.
type Outcome struct {
	Dir          string   // the temporary directory (removed unless Keep)
	ColdAPICalls int      // API calls during the first clone
	WarmAPICalls int      // API calls during everything after it
	Tokens       []string // every token the fake issued (none may appear in the output)
	Pushed       string   // the subject of the fake repository's newest commit after the push
}

const (
	org      = "acme"
	repo     = "private-repo"
	appSlug  = "demo-app"
	commitMs = "Add hello.txt through git-credential-ghapp"
)

// demo runs the whole story, writing it to w. Any failed step ends it with an error that says
// which step failed; the fake GitHub is stopped and the temporary directory removed either way
// (unless Keep).
func demo(ctx context.Context, w io.Writer, opt Options) (*Outcome, error) {
	dir, err := os.MkdirTemp("", "ghapp-demo-")
	if err != nil {
		return nil, err
	}
	out := &Outcome{Dir: dir}
	defer func() {
		if opt.Keep {
			fmt.Fprintf(w, "\nKept %s (HOME for git is %s).\n", dir, filepath.Join(dir, "home"))
			return
		}
		os.RemoveAll(dir)
		fmt.Fprintf(w, "\nCleaned up: the fake GitHub is stopped and %s is removed.\n", dir)
	}()
	p := &printer{w: w}
	fmt.Fprintln(w, "git-credential-ghapp demo: git authenticated as a GitHub App, against a fake GitHub on 127.0.0.1")

	// 1. The helper.
	bin := filepath.Join(dir, "bin")
	if helper := opt.Helper; helper == "" {
		p.step("Build the helper pair, as install.sh does: the front git runs, and the full helper beside it")
		for _, name := range []string{"git-credential-ghapp-full", "git-credential-ghapp"} {
			if err := devtool.Build(ctx, "./cmd/"+name, filepath.Join(bin, name+devtool.Exe), false); err != nil {
				return out, err
			}
			p.line("CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o %s ./cmd/%s", p.short(filepath.Join(bin, name+devtool.Exe), dir), name)
		}
	} else {
		// git finds helpers as git-credential-NAME on PATH: give it the one we were handed (the
		// front finds git-credential-ghapp-full beside its resolved path).
		if err := os.MkdirAll(bin, 0o755); err != nil {
			return out, err
		}
		abs, err := filepath.Abs(helper)
		if err != nil {
			return out, err
		}
		if err := os.Symlink(abs, filepath.Join(bin, "git-credential-ghapp"+devtool.Exe)); err != nil {
			return out, err
		}
		p.step("Use the helper " + abs)
	}

	// 2. The fake GitHub.
	srv, err := fakegithub.New(fakegithub.Config{Dir: filepath.Join(dir, "github")})
	if err != nil {
		return out, fmt.Errorf("starting the fake GitHub: %w", err)
	}
	defer srv.Close()
	app := srv.NewApp(appSlug)
	if err := srv.AddRepo(org + "/" + repo); err != nil {
		return out, err
	}
	inst := srv.Install(app, org, "Organization", map[string]string{"contents": "write", "metadata": "read"})
	home := filepath.Join(dir, "home")
	appID := strconv.FormatInt(app.ID, 10)
	keyFile := filepath.Join(home, ".config", "git-credential-ghapp", appID+".pem")
	if err := os.MkdirAll(filepath.Dir(keyFile), 0o700); err != nil {
		return out, err
	}
	if err := os.WriteFile(keyFile, app.PEM, 0o600); err != nil {
		return out, err
	}
	p.step("Start a fake GitHub at " + srv.URL + " (TLS with its own CA, trusted only by this demo)")
	p.line("GitHub App %q, App ID %s; its private key is ~/.config/git-credential-ghapp/%s.pem (0600)", appSlug, appID, appID)
	p.line("installed on the organisation %q (installation %d) with contents:write, metadata:read", org, inst.ID)
	p.line("private repository %s/%s; no personal access token anywhere", org, repo)

	// 3. A throwaway git, configured as the README says.
	g := &gitEnv{dir: dir, env: demoEnv(bin, home, filepath.Join(dir, "run"), srv.CAFile)}
	for _, d := range []string{filepath.Join(dir, "run"), filepath.Join(dir, "work")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return out, err
		}
	}
	p.step("Configure git (HOME=" + p.short(home, dir) + "; your own git configuration is not read)")
	helperCmd := fmt.Sprintf("ghapp --app-id %s --key-file ~/.config/git-credential-ghapp/%s.pem --hostname %s", appID, appID, srv.Host)
	for _, args := range [][]string{
		{"config", "--global", "credential." + srv.URL + ".helper", helperCmd},
		{"config", "--global", "credential." + srv.URL + ".useHttpPath", "true"},
	} {
		if _, err := g.run(ctx, "", args...); err != nil {
			return out, err
		}
		p.line("$ git %s", shellJoin(args))
	}
	cfg, err := os.ReadFile(filepath.Join(home, ".gitconfig"))
	if err != nil {
		return out, err
	}
	p.line("~/.gitconfig is now:")
	p.block(string(cfg))
	p.line("(git also trusts the fake's CA through GIT_SSL_CAINFO, and the helper through SSL_CERT_FILE)")

	// 4. A cold clone: discovery, mint, and the check that GitHub accepts the new token.
	url := srv.URL + "/" + org + "/" + repo
	srv.ResetCounters()
	p.step("git clone " + url)
	gitOut, err := g.run(ctx, filepath.Join(dir, "work"), "clone", url)
	if err != nil {
		return out, err
	}
	p.block(gitOut)
	out.ColdAPICalls = srv.APICalls()
	p.apiCalls(srv, "the helper found the installation, minted a token and checked that GitHub accepts it")
	if m := srv.Mints(); len(m) > 0 {
		last := m[len(m)-1]
		p.line("the token was minted for repositories %v only", last.Repositories)
	}

	// 5. Commit and push: the token comes from the helper's cache.
	srv.ResetCounters()
	clone := filepath.Join(dir, "work", repo)
	if err := os.WriteFile(filepath.Join(clone, "hello.txt"), []byte("Pushed by a GitHub App.\n"), 0o644); err != nil {
		return out, err
	}
	p.step("Commit hello.txt and git push")
	for _, args := range [][]string{{"add", "hello.txt"}, {"commit", "-q", "-m", commitMs}} {
		if _, err := g.run(ctx, clone, args...); err != nil {
			return out, err
		}
	}
	gitOut, err = g.run(ctx, clone, "push", "origin", "HEAD")
	if err != nil {
		return out, err
	}
	p.block(gitOut)
	warm := srv.APICalls()
	p.apiCalls(srv, "the token came from the helper's cache")
	subject, err := g.run(ctx, "", "--git-dir", srv.RepoPath(org+"/"+repo), "log", "-1", "--format=%s", "main")
	if err != nil {
		return out, err
	}
	out.Pushed = strings.TrimSpace(subject)
	p.line("the fake GitHub's %s/%s now ends with: %s", org, repo, out.Pushed)

	// 6. What the helper answers git.
	srv.ResetCounters()
	p.step("What the helper tells git (as git runs it: `git credential-ghapp ... get`, request on stdin)")
	req := fmt.Sprintf("protocol=https\nhost=%s\npath=%s/%s.git\n\n", srv.Host, org, repo)
	answer, err := g.helperGet(ctx, req, "--app-id", appID, "--key-file", keyFile, "--hostname", srv.Host)
	if err != nil {
		return out, err
	}
	p.line("request:")
	p.block(req)
	p.line("answer (token shortened here; git gets all of it):")
	p.block(redactAnswer(answer, time.Now()))
	warm += srv.APICalls()
	p.apiCalls(srv, "a cache hit")
	out.WarmAPICalls = warm

	for _, t := range srv.Tokens() {
		out.Tokens = append(out.Tokens, t.Token)
	}
	return out, nil
}

// printer writes the story: numbered steps, indented lines and blocks.
type printer struct {
	w io.Writer
	n int
}

func (p *printer) step(s string) {
	p.n++
	fmt.Fprintf(p.w, "\n%d. %s\n", p.n, s)
}

func (p *printer) line(format string, args ...any) {
	fmt.Fprintf(p.w, "   "+format+"\n", args...)
}

func (p *printer) block(s string) {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return
	}
	for _, l := range strings.Split(s, "\n") {
		fmt.Fprintf(p.w, "     | %s\n", l)
	}
}

func (p *printer) short(path, dir string) string {
	if rel, err := filepath.Rel(dir, path); err == nil && !strings.HasPrefix(rel, "..") {
		return "$DEMO/" + filepath.ToSlash(rel)
	}
	return path
}

// apiCalls prints the REST calls the fake GitHub saw since its counters were reset.
func (p *printer) apiCalls(srv *fakegithub.Server, why string) {
	var calls []fakegithub.Request
	for _, r := range srv.Requests() {
		if !r.Git {
			calls = append(calls, r)
		}
	}
	if len(calls) == 0 {
		p.line("GitHub API calls: none (%s)", why)
		return
	}
	p.line("GitHub API calls: %d (%s)", len(calls), why)
	for _, r := range calls {
		p.line("  %-6s %s -> %d", r.Method, r.Path, r.Status)
	}
}

// gitEnv runs git and the helper in the demo's throwaway environment.
type gitEnv struct {
	dir string
	env []string
}

// run runs git with args in dir ("" = the demo directory) and returns its combined output; a
// failure is an error that quotes the output.
func (g *gitEnv) run(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Env = g.env
	cmd.Dir = dir
	if dir == "" {
		cmd.Dir = g.dir
	}
	b, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("git %s: %v\n%s", args[0], err, b)
	}
	return string(b), nil
}

// helperGet runs `git credential-ghapp ARGS get` with req on stdin and returns its stdout.
func (g *gitEnv) helperGet(ctx context.Context, req string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append(append([]string{"credential-ghapp"}, args...), "get")...)
	cmd.Env = g.env
	cmd.Dir = g.dir
	cmd.Stdin = strings.NewReader(req)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("the helper failed: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	if stderr.Len() > 0 {
		return "", fmt.Errorf("the helper wrote on stderr: %s", strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// redactAnswer shortens the password to its first 8 characters and explains the expiry.
func redactAnswer(answer string, now time.Time) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(answer))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		switch k {
		case "password":
			v = redact(v)
		case "password_expiry_utc":
			if sec, err := strconv.ParseInt(v, 10, 64); err == nil {
				v += fmt.Sprintf("   (%s, in %s)", time.Unix(sec, 0).UTC().Format(time.RFC3339), time.Unix(sec, 0).Sub(now).Round(time.Minute))
			}
		}
		fmt.Fprintf(&b, "%s=%s\n", k, v)
	}
	return b.String()
}

// redact keeps the first 8 characters of a secret and says how long it was.
func redact(s string) string {
	if len(s) <= 12 {
		return "…"
	}
	return fmt.Sprintf("%s… (%d characters)", s[:8], len(s))
}

// demoEnv is the environment of every git and helper process: this process's, without anything
// that configures git, the helper, XDG directories, proxies or the keyring, plus the demo's home,
// runtime directory and CA.
func demoEnv(bin, home, runtimeDir, caFile string) []string {
	// exec uses the last of duplicate keys, so the PATH below wins over the inherited one.
	return append(devtool.CleanEnv(os.Environ()),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"XDG_RUNTIME_DIR="+runtimeDir,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_SSL_CAINFO="+caFile,
		"SSL_CERT_FILE="+caFile,
		"GIT_AUTHOR_NAME=Demo", "GIT_AUTHOR_EMAIL=demo@example.com",
		"GIT_COMMITTER_NAME=Demo", "GIT_COMMITTER_EMAIL=demo@example.com",
	)
}

// shellJoin quotes args for display as a shell command line.
func shellJoin(args []string) string {
	q := slices.Clone(args)
	for i, a := range q {
		if strings.ContainsAny(a, " ~'\"$") {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}
