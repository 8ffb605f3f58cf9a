package main

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/internal/fakegithub"
)

// jwtShape matches anything that looks like a JWT (a base64url JSON header, payload, signature).
var jwtShape = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)

// No secret leaves: across successes, cache hits, erases and every failure the helper can meet,
// with the debug trace on, stderr never carries the private key, a JWT or a token, and the trace
// still says what happened.
func TestNoSecretLeaves(t *testing.T) {
	x := newE2E(t)
	x.vars["GHAPP_TRACE"] = "1"
	pem, err := os.ReadFile(x.vars["GHAPP_PRIVATE_KEY_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stderrs []string
	get := func(path string) string {
		out, stderr, _ := x.helperRun(ctx, x.request(path), "get")
		stderrs = append(stderrs, stderr)
		return out
	}

	get("acme/app.git") // cold: discovery and mint
	out := get("acme/app.git")
	tok := strings.TrimPrefix(regexp.MustCompile(`(?m)^password=.*$`).FindString(out), "password=")
	if tok == "" {
		t.Fatalf("no token from a cached get:\n%s", out)
	}
	_, stderr, _ := x.helperRun(ctx, x.request("acme/app.git"), "erase") // no password: nothing to do
	stderrs = append(stderrs, stderr)
	_, stderr, _ = x.helperRun(ctx, strings.TrimSuffix(x.request("acme/app.git"), "\n")+"username=x-access-token\npassword="+tok+"\n\n", "erase")
	stderrs = append(stderrs, stderr)

	x.srv.AddFault(fakegithub.Fault{Route: mintRoute, Status: 502, Times: 2})
	get("acme/app.git")
	// An answer that echoes a token back (as a misbehaving proxy might) is not repeated.
	x.srv.AddFault(fakegithub.Fault{Route: mintRoute, Status: 422, Body: `{"message":"echo: ` + tok + ` Bearer eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl"}`})
	x.vars["GHAPP_MIN_LIFETIME"] = "59m59s"
	get("acme/lib.git")
	x.vars["GHAPP_MIN_LIFETIME"] = ""
	x.srv.SetClockOffset(10 * time.Minute) // lib is not cached: this mint is refused once and re-signed
	get("acme/lib.git")
	x.srv.SetClockOffset(0)
	x.vars["GHAPP_PERMISSIONS"] = "issues:write"
	get("acme/app.git")
	x.vars["GHAPP_PERMISSIONS"] = ""
	get("nobody/repo.git")
	x.vars["GHAPP_PRIVATE_KEY"] = string(pem)[:200] // a cut-off key in the environment
	x.vars["GHAPP_PRIVATE_KEY_FILE"] = ""
	x.vars["XDG_RUNTIME_DIR"] = filepath.Join(x.dir, "run-env")
	os.MkdirAll(x.vars["XDG_RUNTIME_DIR"], 0o700)
	get("acme/app.git")
	x.vars["GHAPP_PRIVATE_KEY"] = ""
	x.vars["GHAPP_PRIVATE_KEY_FILE"] = string(pem) // the key where its path belongs
	get("acme/app.git")
	if !strings.Contains(stderrs[len(stderrs)-1], "holds PEM text, not a path") {
		t.Errorf("a key in GHAPP_PRIVATE_KEY_FILE: stderr %q", stderrs[len(stderrs)-1])
	}

	all := strings.Join(stderrs, "\n")
	var secrets []string
	for _, it := range x.srv.Tokens() {
		secrets = append(secrets, it.Token)
	}
	for _, line := range strings.Split(string(pem), "\n") {
		if len(line) >= 40 && !strings.HasPrefix(line, "-----") {
			secrets = append(secrets, line)
		}
	}
	if len(secrets) < 5 {
		t.Fatalf("too few secrets to look for (%d): the test would prove nothing", len(secrets))
	}
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("a secret reached stderr: %.12s...", s)
		}
	}
	if m := jwtShape.FindString(all); m != "" {
		t.Errorf("a JWT reached stderr: %.20s...", m)
	}
	for _, want := range []string{"trace: ", "minted a token", "cached token", "forgot a token", "re-signing"} {
		if !strings.Contains(all, want) {
			t.Errorf("the trace does not say %q; it said:\n%s", want, all)
		}
	}
	if t.Failed() || os.Getenv("SHOW_STDERR") != "" {
		t.Logf("stderr was:\n%s", all)
	}
}

// The cache holds live tokens, so it is the user's alone: directory 0700, files 0600.
func TestCacheFilesArePrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix modes")
	}
	x := newE2E(t)
	if _, stderr, err := x.helperRun(context.Background(), x.request("acme/app.git"), "get"); err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	dir := filepath.Join(x.vars["XDG_RUNTIME_DIR"], "git-credential-ghapp")
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %04o; want %04o", p, fi.Mode().Perm(), want)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 3 {
		t.Fatalf("expected the directory, a token and a mapping; found %d entries", n)
	}
}

// A cache directory others can read is refused with a message, and the helper still works
// without it (it never writes a token there).
func TestInsecureCacheDirIsRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix modes")
	}
	x := newE2E(t)
	dir := filepath.Join(x.vars["XDG_RUNTIME_DIR"], "git-credential-ghapp")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	out, stderr, err := x.helperRun(context.Background(), x.request("acme/app.git"), "get")
	if err != nil || !strings.Contains(out, "password=") {
		t.Fatalf("get failed: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "refusing the token cache") || !strings.Contains(stderr, "chmod 700") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("want one line refusing the cache with the fix; got:\n%s", stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("the helper wrote %d files into a directory others can read", len(entries))
	}
}

// A key file others can read still works but draws a warning.
func TestReadableKeyFileWarns(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix modes")
	}
	x := newE2E(t)
	os.Chmod(x.vars["GHAPP_PRIVATE_KEY_FILE"], 0o644)
	out, stderr, err := x.helperRun(context.Background(), x.request("acme/app.git"), "get")
	if err != nil || !strings.Contains(out, "password=") {
		t.Fatalf("get failed: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "warning") || !strings.Contains(stderr, "app.pem") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("want one warning line about the key file; got:\n%s", stderr)
	}
}
