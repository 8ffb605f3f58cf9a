package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/cache"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/route"
)

// heavy matches the packages that belong in the full helper only: the network and TLS stack, JWT,
// the OS keyring (D-Bus) and cloud SDKs. The pre-stop hook checks the same expression.
var heavy = regexp.MustCompile(`^(net/http|crypto/tls|crypto/x509)$|golang-jwt|godbus|go-keyring|aws-sdk|cloud.google.com|Azure`)

// trimmed are packages kept out of the front on purpose, each for its start-up cost, and why the
// front does without.
var trimmed = map[string]string{
	"encoding/json":  "internal/audit and cache/ encode and decode by hand",
	"crypto/sha256":  "it links Go's FIPS 140 module; cache file names use FNV, and the front hands over when an audit log is on",
	"crypto/fips140": "Go's FIPS 140 module",
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/audit": "it hashes tokens with SHA-256: the front hands over when an audit log is on",
	"flag":            "internal/options parses the global options by hand and has its own ErrHelp",
	"encoding/base64": "it builds four encodings at start; redact.LooksLikeKey checks for base64 by hand, and keys are decoded in appauth",
	"hash/fnv":        "cache names are FNV-1a 128 computed by hand (cache.fnv128a): hash.Hash cost allocations and an itab per name",
	"regexp":          "internal/redact finds secrets with hand-written scanners (FuzzSecrets holds them to the regexps)",
	"net/url":         "its net/netip initialises at start; options reads plain API URLs by hand and leaves the others to the full helper, redact hides a URL's user by hand",
}

// TestFrontStaysLight fails the build when the front links what only the full helper may link:
// that code's package initialisation and page faults would be paid by every cached get.
func TestFrontStaysLight(t *testing.T) {
	for _, goos := range []string{"linux", "darwin", "windows"} {
		cmd := exec.Command("go", "list", "-deps", ".")
		cmd.Env = append(os.Environ(), "GOOS="+goos, "CGO_ENABLED=0")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps (%s): %v", goos, err)
		}
		for _, pkg := range strings.Fields(string(out)) {
			if heavy.MatchString(pkg) {
				t.Errorf("the front links %s on %s: move what needs it to git-credential-ghapp-full", pkg, goos)
			}
			if why, ok := trimmed[pkg]; ok {
				t.Errorf("the front links %s on %s: keep it out of the packages the front uses (%s)", pkg, goos, why)
			}
		}
	}
}

// pair is a scratch installation: the front built into bin/, and whatever the test puts beside it
// as the full helper.
type pair struct {
	dir, front, run string
	env             []string // more of the front's environment
}

var (
	buildDir    string // removed when the tests end
	frontBinary string // built once, into buildDir
)

func TestMain(m *testing.M) {
	var err error
	if buildDir, err = os.MkdirTemp("", "ghapp-front-"); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(buildDir)
	os.Exit(code)
}

func newPair(t *testing.T) *pair {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the hand-over tests use a shell script as the full helper")
	}
	if frontBinary == "" {
		out := filepath.Join(buildDir, "git-credential-ghapp")
		if b, err := exec.Command("go", "build", "-o", out, ".").CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, b)
		}
		frontBinary = out
	}
	dir := t.TempDir()
	p := &pair{dir: dir, front: filepath.Join(dir, "bin", "git-credential-ghapp"), run: filepath.Join(dir, "run")}
	for _, d := range []string{filepath.Dir(p.front), p.run} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(frontBinary)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.front, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// stubFull installs at path a full helper that records its arguments and standard input.
func (p *pair) stubFull(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$STUB_OUT.args\"\ncat > \"$STUB_OUT.stdin\"\necho 'from the full helper' >&2\nexit 3\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

func (p *pair) runFront(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(p.front, args...)
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+p.run, "STUB_OUT="+filepath.Join(p.dir, "stub"), "GHAPP_TRACE=", "GHAPP_AUDIT_LOG=", "GHAPP_APP_ID=", "GHAPP_HOSTNAME=", "GHAPP_INSTALLATION_ID=")
	cmd.Env = append(cmd.Env, p.env...)
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code = 0
	if x, ok := err.(*exec.ExitError); ok {
		code = x.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// cacheToken puts a token for acme/app of app 1, installation 7, on github.com in p's cache.
func (p *pair) cacheToken(t *testing.T, token string, life time.Duration) {
	t.Helper()
	store, err := cache.Open(filepath.Join(p.run, cache.DirName))
	if err != nil {
		t.Fatal(err)
	}
	r := route.Route{Host: "github.com", AppID: "1", InstallationID: 7}
	now := time.Now()
	if err := store.Put(&cache.Entry{Key: r.Key(7, []string{"app"}), Token: token, ExpiresAt: now.Add(life), CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
}

const getApp = "protocol=https\nhost=github.com\npath=acme/app.git\n\n"

// A cached token is answered by the front alone: there is no full helper to run here.
func TestFrontAnswersAHit(t *testing.T) {
	p := newPair(t)
	p.cacheToken(t, "ghs_cached", time.Hour)
	out, errOut, code := p.runFront(t, getApp, "--app-id", "1", "--installation-id", "7", "get")
	if code != 0 || errOut != "" || !strings.Contains(out, "password=ghs_cached\n") || !strings.Contains(out, "username=x-access-token\n") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want the cached token", code, out, errOut)
	}
	// Flags after the operation count as before it (issue 9 item 22).
	out, _, code = p.runFront(t, getApp, "get", "--app-id", "1", "--installation-id", "7")
	if code != 0 || !strings.Contains(out, "password=ghs_cached\n") {
		t.Fatalf("get --app-id ...: exit %d, stdout %q; want the cached token", code, out)
	}
	// A request for another host is answered (with nothing) by the front too.
	out, errOut, code = p.runFront(t, "protocol=https\nhost=example.com\n\n", "--app-id", "1", "get")
	if code != 0 || out != "" || errOut != "" {
		t.Fatalf("another host: exit %d, stdout %q, stderr %q; want nothing", code, out, errOut)
	}
}

// Without the full helper, a miss fails with one line that says what to do.
func TestFrontMissingFullHelper(t *testing.T) {
	p := newPair(t)
	p.cacheToken(t, "ghs_expiring", 5*time.Minute) // less than the default 10m minimum: a miss
	out, errOut, code := p.runFront(t, getApp, "--app-id", "1", "--installation-id", "7", "get")
	want := "git-credential-ghapp: the full helper git-credential-ghapp-full is missing (looked in " + filepath.Dir(p.front) + " and " + filepath.Join(p.dir, "libexec", "git-credential-ghapp") + "): reinstall git-credential-ghapp (./install.sh)\n"
	if code != 1 || out != "" || errOut != want {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit 1 and %q", code, out, errOut, want)
	}
	full := filepath.Join(filepath.Dir(p.front), fullName)
	if err := os.WriteFile(full, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = p.runFront(t, getApp, "--app-id", "1", "version")
	if want := "git-credential-ghapp: " + full + " is not an executable file: reinstall git-credential-ghapp (./install.sh)\n"; code != 1 || errOut != want {
		t.Fatalf("exit %d, stderr %q; want %q", code, errOut, want)
	}
}

// What the front does not answer goes to the full helper with the same arguments, and the
// request it has read as standard input, never in argv; the full helper's exit code is the
// front's. It is found next to the front's resolved path (through a symbolic link) or in
// ../libexec/git-credential-ghapp/.
func TestFrontHandsOver(t *testing.T) {
	for _, where := range []string{"beside", "libexec"} {
		t.Run(where, func(t *testing.T) {
			p := newPair(t)
			full := filepath.Join(filepath.Dir(p.front), fullName)
			if where == "libexec" {
				full = filepath.Join(p.dir, "libexec", "git-credential-ghapp", fullName)
			}
			p.stubFull(t, full)
			link := filepath.Join(t.TempDir(), "git-credential-ghapp")
			if err := os.Symlink(p.front, link); err != nil {
				t.Fatal(err)
			}
			p.front = link
			// An erase the cache cannot take (the cache directory is open to others) carries a token.
			if err := os.MkdirAll(filepath.Join(p.run, cache.DirName), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(filepath.Join(p.run, cache.DirName), 0o755); err != nil {
				t.Fatal(err)
			}
			erase := "protocol=https\nhost=github.com\npath=acme/app.git\nusername=x-access-token\npassword=ghs_secret\n\n"
			_, errOut, code := p.runFront(t, erase, "--app-id", "1", "erase")
			if code != 3 || errOut != "from the full helper\n" {
				t.Fatalf("exit %d, stderr %q; want the full helper's exit 3 and its stderr", code, errOut)
			}
			args, _ := os.ReadFile(filepath.Join(p.dir, "stub.args"))
			stdin, _ := os.ReadFile(filepath.Join(p.dir, "stub.stdin"))
			if string(args) != "--app-id\n1\nerase\n" || string(stdin) != erase {
				t.Fatalf("the full helper got args %q and stdin %q; want the same args and the request", args, stdin)
			}
			// A command for people is handed over without reading stdin.
			_, _, code = p.runFront(t, "left for the command", "status", "--json")
			args, _ = os.ReadFile(filepath.Join(p.dir, "stub.args"))
			stdin, _ = os.ReadFile(filepath.Join(p.dir, "stub.stdin"))
			if code != 3 || string(args) != "status\n--json\n" || string(stdin) != "left for the command" {
				t.Fatalf("exit %d, args %q, stdin %q", code, args, stdin)
			}
		})
	}
}

// With an audit log, the full helper answers every get and erase, hits too, and records them:
// the front does not link the SHA-256 that the log's hashed_token needs.
func TestFrontHandsOverWithAuditLog(t *testing.T) {
	p := newPair(t)
	p.stubFull(t, filepath.Join(filepath.Dir(p.front), fullName))
	p.cacheToken(t, "ghs_cached", time.Hour)
	log := filepath.Join(p.dir, "audit.jsonl")
	erase := "protocol=https\nhost=github.com\npath=acme/app.git\nusername=x-access-token\npassword=ghs_cached\n\n"
	for _, c := range []struct {
		args  []string
		stdin string
	}{
		{[]string{"--app-id", "1", "--installation-id", "7", "--audit-log", log, "get"}, getApp},
		{[]string{"--app-id", "1", "--installation-id", "7", "get", "--audit-log", log}, getApp},
		{[]string{"--app-id", "1", "--installation-id", "7", "--audit-log", log, "erase"}, erase},
	} {
		out, errOut, code := p.runFront(t, c.stdin, c.args...)
		args, _ := os.ReadFile(filepath.Join(p.dir, "stub.args"))
		stdin, _ := os.ReadFile(filepath.Join(p.dir, "stub.stdin"))
		if code != 3 || out != "" || errOut != "from the full helper\n" || string(args) != strings.Join(c.args, "\n")+"\n" || string(stdin) != c.stdin {
			t.Fatalf("%q: exit %d, stdout %q, stderr %q, the full helper got args %q and stdin %q; want the full helper to get the request", c.args, code, out, errOut, args, stdin)
		}
		os.Remove(filepath.Join(p.dir, "stub.args"))
	}
	// GHAPP_AUDIT_LOG too; a store still needs nothing from the full helper.
	cmd := exec.Command(p.front, "--app-id", "1", "--installation-id", "7", "get")
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+p.run, "STUB_OUT="+filepath.Join(p.dir, "stub"), "GHAPP_TRACE=", "GHAPP_AUDIT_LOG="+log)
	cmd.Stdin = strings.NewReader(getApp)
	if out, err := cmd.Output(); err == nil || strings.Contains(string(out), "ghs_cached") {
		t.Fatalf("GHAPP_AUDIT_LOG: %v, stdout %q; want the full helper's exit 3", err, out)
	}
	os.Remove(filepath.Join(p.dir, "stub.args"))
	if out, errOut, code := p.runFront(t, getApp, "--app-id", "1", "--audit-log", log, "store"); code != 0 || out != "" || errOut != "" {
		t.Fatalf("store: exit %d, stdout %q, stderr %q; want nothing", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(p.dir, "stub.args")); err == nil {
		t.Fatal("store was handed over")
	}
}

// An API URL that is not plain is read by the full helper (the front does not link net/url); a
// plain one does not stop the front from answering.
func TestFrontHandsOverAnURLItCannotRead(t *testing.T) {
	p := newPair(t)
	p.stubFull(t, filepath.Join(filepath.Dir(p.front), fullName))
	p.cacheToken(t, "ghs_cached", time.Hour)
	out, _, code := p.runFront(t, getApp, "--app-id", "1", "--installation-id", "7", "--api-url", "https://github.com/api/v3", "get")
	if code != 0 || !strings.Contains(out, "password=ghs_cached\n") {
		t.Fatalf("plain --api-url: exit %d, stdout %q; want the cached token", code, out)
	}
	args := []string{"--app-id", "1", "--installation-id", "7", "--api-url", "https://github.com/api%2Fv3", "get"}
	_, errOut, code := p.runFront(t, getApp, args...)
	got, _ := os.ReadFile(filepath.Join(p.dir, "stub.args"))
	if code != 3 || errOut != "from the full helper\n" || string(got) != strings.Join(args, "\n")+"\n" {
		t.Fatalf("exit %d, stderr %q, the full helper got %q; want it to get the request", code, errOut, got)
	}
}

// While another process holds the token's lock (it is minting), the front waits for it and then
// answers from the cache, without the full helper (there is none here). A front that did not wait
// would run the missing full helper and fail; one that waits passes however the processes race.
func TestFrontWaitsForAnotherMint(t *testing.T) {
	p := newPair(t)
	store, err := cache.Open(filepath.Join(p.run, cache.DirName))
	if err != nil {
		t.Fatal(err)
	}
	r := route.Route{Host: "github.com", AppID: "1", InstallationID: 7}
	unlock, err := store.Lock(context.Background(), r.Key(7, []string{"app"}))
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		out, errOut string
		code        int
	}
	done := make(chan result, 1)
	go func() {
		out, errOut, code := p.runFront(t, getApp, "--app-id", "1", "--installation-id", "7", "get")
		done <- result{out, errOut, code}
	}()
	time.Sleep(200 * time.Millisecond) // give the front time to reach the lock (not needed to pass)
	p.cacheToken(t, "ghs_minted_meanwhile", time.Hour)
	unlock()
	res := <-done
	if res.code != 0 || !strings.Contains(res.out, "password=ghs_minted_meanwhile\n") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want the token the other process minted", res.code, res.out, res.errOut)
	}
}

// BenchmarkFrontHit measures the front's own work on a cached get (installation mapping and
// token both cached), in process: what git's process start does not already cost. Its allocs/op
// is worth watching: on a cold process each allocation of a new size class faults in fresh pages.
func BenchmarkFrontHit(b *testing.B) {
	run := b.TempDir()
	store, err := cache.Open(filepath.Join(run, cache.DirName))
	if err != nil {
		b.Fatal(err)
	}
	r := route.Route{Host: "github.com", AppID: "1"}
	t, err := route.TargetFromPath("acme/app.git")
	if err != nil {
		b.Fatal(err)
	}
	target, _, _ := r.MappingTarget(t)
	now := time.Now()
	if err := store.PutInstallation(r.Host, r.AppID, target, 7, now); err != nil {
		b.Fatal(err)
	}
	if err := store.Put(&cache.Entry{Key: r.Key(7, []string{"app"}), Token: "ghs_cached", ExpiresAt: now.Add(time.Hour), CreatedAt: now}); err != nil {
		b.Fatal(err)
	}
	env := map[string]string{"XDG_RUNTIME_DIR": run, "HOME": b.TempDir()}
	getenv := func(k string) string { return env[k] }
	args := []string{"--app-id", "1", "get"}
	var out bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		out.Reset()
		if _, _, _, answered := front(args, strings.NewReader(getApp), &out, io.Discard, getenv); !answered || !strings.Contains(out.String(), "password=ghs_cached") {
			b.Fatalf("not answered from the cache: %q", out.String())
		}
	}
}

// On a miss the front takes the lock of what is missing and hands it to the full helper, still
// locked: while the full helper runs, no other process can take it (it would wait, in its front),
// and it is free again once the full helper exits. A variable the front did not set itself never
// reaches the full helper.
func TestFrontHandsItsLockOver(t *testing.T) {
	p := newPair(t)
	// The stub full helper says which descriptor it was handed, then waits for the test to look.
	stub := filepath.Join(p.dir, "stub")
	script := "#!/bin/sh\ncat >/dev/null\necho \"${GHAPP_HELD_LOCK_FD-unset}\" > \"$STUB_OUT.fd\"\n" +
		"i=0; while [ ! -e \"$STUB_OUT.go\" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done\nexit 3\n"
	if err := os.WriteFile(filepath.Join(filepath.Dir(p.front), fullName), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	store, err := cache.Open(filepath.Join(p.run, cache.DirName))
	if err != nil {
		t.Fatal(err)
	}
	r := route.Route{Host: "github.com", AppID: "1"}
	target, _, _ := r.MappingTarget(route.Target{Owner: "acme", Repo: "app"})
	withID := route.Route{Host: "github.com", AppID: "1", InstallationID: 7}
	p.env = []string{"GHAPP_HELD_LOCK_FD=99"} // set by hand: replaced, or removed
	for _, c := range []struct {
		args []string
		lock func(context.Context) (func(), error)
	}{
		{[]string{"--app-id", "1", "--installation-id", "7", "get"}, func(ctx context.Context) (func(), error) {
			return store.Lock(ctx, withID.Key(7, []string{"app"}))
		}},
		{[]string{"--app-id", "1", "get"}, func(ctx context.Context) (func(), error) {
			return store.LockInstallation(ctx, "github.com", "1", target)
		}},
	} {
		os.Remove(stub + ".go")
		os.Remove(stub + ".fd")
		done := make(chan int, 1)
		go func() {
			_, _, code := p.runFront(t, getApp, c.args...)
			done <- code
		}()
		fd := waitForFile(t, stub+".fd")
		if fd == "unset\n" || fd == "99\n" {
			t.Fatalf("%v: the full helper was handed no lock (GHAPP_HELD_LOCK_FD %q)", c.args, fd)
		}
		store.LockWait = 100 * time.Millisecond
		if unlock, err := c.lock(context.Background()); !errors.Is(err, cache.ErrLockWait) {
			if err == nil {
				unlock()
			}
			t.Fatalf("%v: took the lock while the full helper ran (%v); it should hold the front's", c.args, err)
		}
		if err := os.WriteFile(stub+".go", nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if code := <-done; code != 3 {
			t.Fatalf("%v: exit %d; want the stub's 3", c.args, code)
		}
		store.LockWait = 0 // it must be free now: not a moment's wait
		unlock, err := c.lock(context.Background())
		if err != nil {
			t.Fatalf("%v: the lock is still held after the full helper exited: %v", c.args, err)
		}
		unlock()
	}
	// Handed over with no lock (a command for people): the variable set by hand is removed.
	os.Remove(stub + ".fd")
	if err := os.WriteFile(stub+".go", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	p.runFront(t, "", "version")
	if fd := waitForFile(t, stub+".fd"); fd != "unset\n" {
		t.Fatalf("the full helper inherited GHAPP_HELD_LOCK_FD=%q set by hand; want it removed", fd)
	}
}

// waitForFile returns the contents of path once it has a line, failing the test after a while.
func waitForFile(t *testing.T, path string) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if b, err := os.ReadFile(path); err == nil && bytes.HasSuffix(b, []byte("\n")) {
			return string(b)
		}
	}
	t.Fatalf("%s never appeared", path)
	return ""
}

// readRequest reads git's request whole, in pieces of any size and past its first buffer, and
// stops at maxRequest, leaving the full helper to report a request that long.
func TestReadRequest(t *testing.T) {
	long := "protocol=https\nhost=github.com\nwwwauth[]=" + strings.Repeat("B", 10000) + "\npath=acme/app.git\n\n"
	for name, r := range map[string]io.Reader{
		"at once":       strings.NewReader(long),
		"a byte a read": iotest.OneByteReader(strings.NewReader(long)),
		"half a read":   iotest.HalfReader(strings.NewReader(long)),
	} {
		got, err := readRequest(r)
		if err != nil || string(got) != long {
			t.Fatalf("%s: read %d bytes, %v; want the %d of the request", name, len(got), err, len(long))
		}
	}
	got, err := readRequest(strings.NewReader(strings.Repeat("wwwauth[]=x\n", maxRequest/8)))
	if err != nil || len(got) != maxRequest {
		t.Fatalf("an endless request: read %d bytes, %v; want %d", len(got), err, maxRequest)
	}
}
