package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// e2e is one world for a Go-level end-to-end test: the fake GitHub, the environment git and the
// helper run with, and the helper binary (this test binary, on PATH as git-credential-ghapp).
type e2e struct {
	*world
	dir    string
	vars   map[string]string
	helper string
}

func newE2E(t *testing.T) *e2e {
	t.Helper()
	dir := t.TempDir()
	w, vars, err := startWorld(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.srv.Close)
	helper, err := exec.LookPath("git-credential-ghapp")
	if err != nil {
		t.Fatalf("the test binary is not on PATH as git-credential-ghapp: %v", err)
	}
	vars["GHAPP_APP_ID"] = vars["APP_ID"]
	vars["GHAPP_PRIVATE_KEY_FILE"] = filepath.Join(dir, "app.pem")
	return &e2e{world: w, dir: dir, vars: vars, helper: helper}
}

func (x *e2e) environ() []string {
	env := os.Environ()
	for k, v := range x.vars {
		env = append(env, k+"="+v)
	}
	return env
}

// helperRun runs the helper binary with op and the request on stdin.
func (x *e2e) helperRun(ctx context.Context, stdin string, args ...string) (stdout, stderr string, err error) {
	cmd := exec.CommandContext(ctx, x.helper, args...)
	cmd.Env = x.environ()
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

func (x *e2e) git(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Env = x.environ()
	cmd.Dir = x.dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (x *e2e) configureGit(t *testing.T) {
	t.Helper()
	host := x.vars["HOST"]
	for _, kv := range [][2]string{
		{"credential.https://" + host + ".helper", "ghapp"},
		{"credential.https://" + host + ".useHttpPath", "true"},
	} {
		if out, err := x.git(t, "config", "--global", kv[0], kv[1]); err != nil {
			t.Fatalf("git config: %v\n%s", err, out)
		}
	}
}

func (x *e2e) request(path string) string {
	return fmt.Sprintf("protocol=https\nhost=%s\npath=%s\n\n", x.vars["HOST"], path)
}

const mintRoute = "POST /app/installations/{id}/access_tokens"

// Sixteen helper processes that miss the cache for the same repository at the same moment mint
// one token between them; every one hands git that same token.
func TestConcurrentGetsMintOnce(t *testing.T) {
	x := newE2E(t)
	x.srv.SetLatency(50 * time.Millisecond) // widen the window in which they race
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const n = 16
	var wg sync.WaitGroup
	outs := make([]string, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			var stderr string
			outs[i], stderr, errs[i] = x.helperRun(ctx, x.request("acme/app.git"), "get")
			if errs[i] != nil || stderr != "" {
				errs[i] = fmt.Errorf("%v: %s", errs[i], stderr)
			}
		}(i)
	}
	close(start)
	wg.Wait()
	for i := range outs {
		if errs[i] != nil {
			t.Fatalf("helper %d: %v", i, errs[i])
		}
		if outs[i] != outs[0] || !strings.Contains(outs[i], "password=") {
			t.Fatalf("helper %d answered differently:\n%s\nvs\n%s", i, outs[i], outs[0])
		}
	}
	if got := x.srv.Count(mintRoute); got != 1 {
		t.Fatalf("%d concurrent gets minted %d times; want 1", n, got)
	}
}

// Of sixteen gets that miss the cache at once, one front takes the discovery lock and starts the
// full helper, handing it the lock; the other fifteen wait for it in their fronts and answer from
// the cache, without starting the full helper (whose start costs many times the front's).
func TestConcurrentMissesStartOneFullHelper(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("on Windows the front hands over no lock: each front that misses starts a full helper")
	}
	x := newE2E(t)
	x.vars["GHAPP_TRACE"] = "1"
	x.srv.SetLatency(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const n = 16
	var wg sync.WaitGroup
	outs, stderrs := make([]string, n), make([]string, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			outs[i], stderrs[i], errs[i] = x.helperRun(ctx, x.request("acme/app.git"), "get")
		}()
	}
	close(start)
	wg.Wait()
	full := 0
	for i := range n {
		if errs[i] != nil || outs[i] != outs[0] || !strings.Contains(outs[i], "password=") {
			t.Fatalf("helper %d: %v, answered:\n%s\nvs\n%s\nstderr:\n%s", i, errs[i], outs[i], outs[0], stderrs[i])
		}
		switch {
		case strings.Contains(stderrs[i], "holding the cache lock the front took"):
			full++
		case strings.Contains(stderrs[i], "trace: cached token for installation"):
		default:
			t.Fatalf("helper %d neither answered from the cache in its front nor minted under the front's lock:\n%s", i, stderrs[i])
		}
	}
	if full != 1 {
		t.Fatalf("%d gets started the full helper; want 1", full)
	}
	if got := x.srv.Count(mintRoute); got != 1 {
		t.Fatalf("%d concurrent gets minted %d times; want 1", n, got)
	}
}

// Eight concurrent `git ls-remote` of one repository, as parallel fetches do: one mint.
func TestConcurrentGitMintsOnce(t *testing.T) {
	x := newE2E(t)
	x.configureGit(t)
	x.srv.SetLatency(50 * time.Millisecond)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command("git", "ls-remote", "https://"+x.vars["HOST"]+"/acme/app.git")
			cmd.Env = x.environ()
			if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "refs/heads/main") {
				errs <- fmt.Errorf("ls-remote: %v\n%s", err, out)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := x.srv.Count(mintRoute); got != 1 {
		t.Fatalf("8 concurrent ls-remote minted %d times; want 1", got)
	}
}

// When GitHub stops accepting a cached token, git erases it; the next operation mints a fresh
// one instead of failing for the rest of the hour.
func TestRejectedTokenIsErasedAndReminted(t *testing.T) {
	x := newE2E(t)
	x.configureGit(t)
	url := "https://" + x.vars["HOST"] + "/acme/app.git"
	if out, err := x.git(t, "clone", url, "app"); err != nil {
		t.Fatalf("clone: %v\n%s", err, out)
	}
	x.srv.RevokeAll()
	if out, err := x.git(t, "-C", "app", "fetch"); err == nil {
		t.Fatalf("fetch with a revoked token succeeded:\n%s", out)
	}
	x.srv.ResetCounters()
	if out, err := x.git(t, "-C", "app", "fetch"); err != nil {
		t.Fatalf("fetch after erase: %v\n%s", err, out)
	}
	if got := x.srv.Count(mintRoute); got != 1 {
		t.Fatalf("after erase, %d mints; want 1", got)
	}
	if got := x.srv.Count("DELETE /installation/token"); got != 0 {
		t.Fatalf("erase revoked the token at GitHub (%d calls); it must only forget it", got)
	}
}

// A token about to expire is not handed out: a clone must not die half way.
func TestNearExpiryTokenIsReplaced(t *testing.T) {
	x := newE2E(t)
	x.srv.SetTokenLifetime(15 * time.Minute)
	ctx := context.Background()
	first, _, err := x.helperRun(ctx, x.request("acme/app.git"), "get")
	if err != nil {
		t.Fatal(err)
	}
	// 15 minutes left: reused under the default 10-minute margin, re-minted under a 20-minute one.
	again, _, _ := x.helperRun(ctx, x.request("acme/app.git"), "get")
	if again != first || x.srv.Count(mintRoute) != 1 {
		t.Fatalf("a token with 15 minutes left was not reused (mints: %d)", x.srv.Count(mintRoute))
	}
	x.vars["GHAPP_MIN_LIFETIME"] = "20m"
	fresh, _, err := x.helperRun(ctx, x.request("acme/app.git"), "get")
	if err != nil {
		t.Fatal(err)
	}
	if fresh == first || x.srv.Count(mintRoute) != 2 {
		t.Fatalf("a token with less than the minimum lifetime left was handed out (mints: %d)", x.srv.Count(mintRoute))
	}
}

// git-lfs asks for credentials with the path OWNER/REPO.git/info/lfs; the token is still for
// that one repository.
func TestGitLFSPathMapsToTheRepository(t *testing.T) {
	x := newE2E(t)
	x.configureGit(t)
	cmd := exec.Command("git", "credential", "fill")
	cmd.Env = x.environ()
	cmd.Stdin = strings.NewReader("url=https://" + x.vars["HOST"] + "/acme/app.git/info/lfs\n\n")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "password=ghs_") {
		t.Fatalf("git credential fill: %v\n%s", err, out)
	}
	mints := x.srv.Mints()
	if len(mints) != 1 || len(mints[0].Repositories) != 1 || mints[0].Repositories[0] != "app" {
		t.Fatalf("mints %+v; want one for repository app", mints)
	}
}

// CI systems hold the key in a secret: GHAPP_PRIVATE_KEY accepts the PEM as it is, with literal
// \n escapes, or base64-encoded.
func TestKeyFromEnvironment(t *testing.T) {
	x := newE2E(t)
	pem, err := os.ReadFile(x.vars["GHAPP_PRIVATE_KEY_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	x.vars["GHAPP_PRIVATE_KEY_FILE"] = ""
	forms := map[string]string{
		"pem":     string(pem),
		"escaped": strings.ReplaceAll(strings.TrimSpace(string(pem)), "\n", `\n`),
		"base64":  base64.StdEncoding.EncodeToString(pem),
	}
	for name, value := range forms {
		x.vars["GHAPP_PRIVATE_KEY"] = value
		x.vars["GHAPP_MIN_LIFETIME"] = "1h" // nothing cached is good enough: mint each time
		out, stderr, err := x.helperRun(context.Background(), x.request("acme/app.git"), "get")
		if err != nil || !strings.Contains(out, "password=ghs_") || stderr != "" {
			t.Errorf("%s: %v\n%s%s", name, err, out, stderr)
		}
	}
	if got := x.srv.Count(mintRoute); got != len(forms) {
		t.Fatalf("%d mints; want %d (one per form)", got, len(forms))
	}
}
