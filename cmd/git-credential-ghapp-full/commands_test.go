package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/fakegithub"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/gitconfig"
	"github.com/zalando/go-keyring"
)

// runCmd runs the command line in this process, as main would.
func runCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut, getenv: os.Getenv})
	return code, out.String(), errOut.String()
}

// inProcessWorld is a fake GitHub for tests that run commands in this process (the keyring mock
// lives only in this process). It sets SSL_CERT_FILE to the fake's CA, which Go reads once per
// process: so every such test runs under TestInProcess, against one server, in a process of its
// own.
type inProcessWorld struct {
	srv    *fakegithub.Server
	app    *fakegithub.App
	appID  string
	pem    string // path of the app's key, 0600
	dir    string
	global string // the global git config file
}

func newInProcessWorld(t *testing.T) *inProcessWorld {
	dir := t.TempDir()
	w, vars, err := startWorld(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.srv.Close)
	for k, v := range vars {
		t.Setenv(k, v)
	}
	t.Setenv("GHAPP_HOSTNAME", "") // these tests name the host with --hostname
	// setup runs in this process: git-credential-ghapp on PATH is this program, so that setup
	// writes the bare name as it does for an installed pair.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "self-bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, filepath.Join(bin, "git-credential-ghapp")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return &inProcessWorld{srv: w.srv, app: w.apps["ci-bot"], appID: vars["APP_ID"], pem: filepath.Join(dir, "app.pem"), dir: dir, global: vars["GIT_CONFIG_GLOBAL"]}
}

// fresh gives a subtest its own home: config, cache and key copy start empty.
func (w *inProcessWorld) fresh(t *testing.T) string {
	home := t.TempDir()
	t.Setenv("HOME", home)
	w.global = filepath.Join(home, ".gitconfig")
	t.Setenv("GIT_CONFIG_GLOBAL", w.global)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, ".cache"))
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(home, "run"))
	if err := os.Mkdir(filepath.Join(home, "run"), 0o700); err != nil {
		t.Fatal(err)
	}
	return home
}

// workingKeyring installs go-keyring's in-memory mock for the rest of the test.
func workingKeyring(t *testing.T) {
	keyring.MockInit()
	t.Cleanup(func() { keyring.MockInitWithError(errNoTestKeyring) })
}

func request(host, path string) string {
	return "protocol=https\nhost=" + host + "\npath=" + path + "\n\n"
}

func password(t *testing.T, stdout string) string {
	t.Helper()
	for _, l := range strings.Split(stdout, "\n") {
		if p, ok := strings.CutPrefix(l, "password="); ok {
			return p
		}
	}
	t.Fatalf("no password in %q", stdout)
	return ""
}

func TestInProcess(t *testing.T) {
	if os.Getenv("GHAPP_TEST_IN_PROCESS_CHILD") != "1" {
		// Go loads the trusted roots once per process, so each run (-count, -shuffle) gets a fresh
		// process that trusts its own fake GitHub's CA.
		cmd := exec.Command(os.Args[0], "-test.run=^TestInProcess$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "GHAPP_TEST_IN_PROCESS_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte("--- PASS: TestInProcess")) {
			t.Fatalf("the in-process tests failed (%v):\n%s", err, out)
		}
		return
	}
	w := newInProcessWorld(t)
	t.Run("SetupStoresTheKeyInTheKeyring", func(t *testing.T) { testSetupKeyring(t, w) })
	t.Run("SetupFallsBackToAPrivateFile", func(t *testing.T) { testSetupFile(t, w) })
	t.Run("KeyImportAndRemove", func(t *testing.T) { testKeyImportRemove(t, w) })
}

// testSetupKeyring: with a keyring, setup puts the key there and the helper line names no key
// file; git's helper finds the key there; a cached get never touches the keyring.
func testSetupKeyring(t *testing.T, w *inProcessWorld) {
	home := w.fresh(t)
	workingKeyring(t)
	code, out, errOut := runCmd(t, "", "setup", "--app-id", w.appID, "--key-file", w.pem, "--hostname", w.srv.Host)
	if code != exitOK || errOut != "" {
		t.Fatalf("setup: exit %d, stderr %q", code, errOut)
	}
	if want := "stored the key in the OS keyring (service git-credential-ghapp, account " + w.appID + ")\n"; !strings.Contains(out, want) {
		t.Fatalf("setup said:\n%s\nwant a line %q", out, want)
	}
	stored, err := keyring.Get(appauth.KeyringService, w.appID)
	if err != nil {
		t.Fatal(err)
	}
	if stored != string(w.app.PEM) {
		t.Fatalf("the keyring holds %d bytes, not the app's PKCS#1 key", len(stored))
	}
	if _, err := os.Stat(filepath.Join(home, ".config", "git-credential-ghapp")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("setup wrote a key copy although the keyring took the key: %v", err)
	}
	cfg, err := os.ReadFile(w.global)
	if err != nil {
		t.Fatal(err)
	}
	helper := "ghapp --app-id " + w.appID + " --hostname " + w.srv.Host
	if want := "\thelper = \n\thelper = " + helper + "\n\tuseHttpPath = true\n"; !strings.Contains(string(cfg), want) {
		t.Fatalf("global config:\n%s\nwant it to contain:\n%s", cfg, want)
	}

	// A second run stores the same key again and changes no config.
	code, out, _ = runCmd(t, "", "setup", "--app-id", w.appID, "--key-file", w.pem, "--hostname", w.srv.Host)
	if code != exitOK || !strings.Contains(out, "nothing to change") {
		t.Fatalf("second setup: exit %d:\n%s", code, out)
	}
	if again, _ := os.ReadFile(w.global); !bytes.Equal(again, cfg) {
		t.Fatalf("second setup changed the config:\n%s", again)
	}

	// The helper as git runs it (the config's command line), key from the keyring.
	words, err := gitconfig.SplitCommand(helper)
	if err != nil {
		t.Fatal(err)
	}
	get := append(words[1:], "get")
	code, out, errOut = runCmd(t, request(w.srv.Host, "acme/app.git"), get...)
	if code != exitOK || errOut != "" {
		t.Fatalf("get: exit %d, stderr %q", code, errOut)
	}
	tok := password(t, out)

	// From now on every keyring call fails: the cached get must not make one.
	keyring.MockInitWithError(errors.New("the keyring was touched"))
	w.srv.ResetCounters()
	code, out, errOut = runCmd(t, request(w.srv.Host, "acme/app.git"), get...)
	if code != exitOK || errOut != "" || password(t, out) != tok {
		t.Fatalf("cached get with a failing keyring: exit %d, stderr %q", code, errOut)
	}
	if n := w.srv.APICalls(); n != 0 {
		t.Fatalf("the cached get made %d API calls", n)
	}
	// A request that must mint does load the key, and so meets the failing keyring: the test
	// above would have seen it too.
	code, out, errOut = runCmd(t, request(w.srv.Host, "acme/lib.git"), get...)
	if code == exitOK || out != "" || !strings.Contains(errOut, "the keyring was touched") {
		t.Fatalf("get that mints with a failing keyring: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// testSetupFile: without a keyring, setup keeps the key in a file only its owner can read,
// normalised to PKCS#1, and the helper line names it.
func testSetupFile(t *testing.T, w *inProcessWorld) {
	home := w.fresh(t)
	// The key as PKCS#8, in a directory setup will create.
	der, err := x509.MarshalPKCS8PrivateKey(w.app.Key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := filepath.Join(home, "key8.pem")
	if err := os.WriteFile(pkcs8, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	// A config directory others may enter: setup tightens its own directory under it.
	if err := os.MkdirAll(filepath.Join(home, ".config", "git-credential-ghapp"), 0o755); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd(t, "", "setup", "--app-id", w.appID, "--key-file", pkcs8, "--hostname", w.srv.Host)
	if code != exitOK || errOut != "" {
		t.Fatalf("setup: exit %d, stderr %q", code, errOut)
	}
	copyPath := filepath.Join(home, ".config", "git-credential-ghapp", w.appID+".pem")
	if !strings.Contains(out, "no OS keyring answered (") || !strings.Contains(out, "keeping the key in "+copyPath+" (0600)") {
		t.Fatalf("setup said:\n%s", out)
	}
	data, err := os.ReadFile(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, w.app.PEM) {
		t.Fatalf("the key copy is not the PKCS#1 PEM of the app's key:\n%s", data)
	}
	if runtime.GOOS != "windows" {
		for path, want := range map[string]os.FileMode{copyPath: 0o600, filepath.Dir(copyPath): 0o700} {
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != want {
				t.Errorf("%s has mode %o, want %o", path, fi.Mode().Perm(), want)
			}
		}
	}
	cfg, _ := os.ReadFile(w.global)
	if want := "helper = ghapp --app-id " + w.appID + " --key-file " + copyPath + " --hostname " + w.srv.Host + "\n"; !strings.Contains(string(cfg), want) {
		t.Fatalf("global config:\n%s\nwant a line %q", cfg, want)
	}
}

// testKeyImportRemove: key import stores any accepted form of the key as PKCS#1; the helper then
// finds it with no key option; key remove takes it out again.
func testKeyImportRemove(t *testing.T, w *inProcessWorld) {
	w.fresh(t)
	workingKeyring(t)
	escaped := strings.ReplaceAll(strings.TrimSpace(string(w.app.PEM)), "\n", `\n`)
	t.Setenv("GHAPP_PRIVATE_KEY", escaped)
	code, out, errOut := runCmd(t, "", "key", "import", "--app-id", w.appID)
	if code != exitOK || errOut != "" || out != "stored the private key of app "+w.appID+" (from GHAPP_PRIVATE_KEY) in the OS keyring\n" {
		t.Fatalf("key import: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	t.Setenv("GHAPP_PRIVATE_KEY", "")
	if stored, err := keyring.Get(appauth.KeyringService, w.appID); err != nil || stored != string(w.app.PEM) {
		t.Fatalf("keyring holds %d bytes, %v", len(stored), err)
	}
	code, out, errOut = runCmd(t, "", "--hostname", w.srv.Host, "--app-id", w.appID, "token", "acme/app")
	if code != exitOK || errOut != "" || !strings.HasPrefix(out, "ghs_") {
		t.Fatalf("token with the key in the keyring: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	code, out, errOut = runCmd(t, "", "key", "remove", "--app-id", w.appID)
	if code != exitOK || errOut != "" || out != "removed the private key of app "+w.appID+" from the OS keyring\n" {
		t.Fatalf("key remove: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if _, err := keyring.Get(appauth.KeyringService, w.appID); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("after key remove the keyring answers %v", err)
	}
	code, out, _ = runCmd(t, "", "key", "remove", "--app-id", w.appID)
	if code != exitOK || !strings.Contains(out, "nothing to remove") {
		t.Fatalf("second key remove: exit %d, stdout %q", code, out)
	}
	// Without the key, a token that must be minted cannot be had, and the error says where to
	// put a key.
	code, _, errOut = runCmd(t, "", "--hostname", w.srv.Host, "--app-id", w.appID, "token", "acme/lib")
	if code != exitFail || !strings.Contains(errOut, "--key-file") {
		t.Fatalf("token without a key: exit %d, stderr %q", code, errOut)
	}
}

// TestUsageErrors: unknown flags, unknown commands and missing arguments exit 2 with one line on
// stderr and nothing on stdout.
func TestUsageErrors(t *testing.T) {
	t.Setenv("GHAPP_APP_ID", "")
	for _, args := range [][]string{
		{"frobnicate"},
		{"--no-such-flag", "status"},
		{"status", "--verbose"},
		{"status", "extra"},
		{"token", "--jsn", "acme/app"},
		{"token"}, // no app id
		{"token", "--app-id", "1", "a/b", "c/d"},
		{"token", "--app-id", "1", "--installation-id", "x"},
		{"setup", "--global", "--local", "--app-id", "1"},
		{"setup", "--key-file", "k.pem"},
		{"revoke"},
		{"revoke", "--all", "acme/app"},
		{"revoke", "acme"},
		{"installations"},
		{"installations", "--page", "2"},
		{"doctor", "extra"},
		{"key"},
		{"key", "export"},
		{"key", "import"},
		{"key", "remove", "--app-id", "1", "x"},
	} {
		code, out, errOut := runCmd(t, "", args...)
		if code != exitUsage || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "git-credential-ghapp: ") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and one line on stderr", args, code, out, errOut)
		}
	}
}

// TestEveryCommandHasHelp: --help and -h print the command's usage, with examples, on stdout.
func TestEveryCommandHasHelp(t *testing.T) {
	for _, name := range sortedCommandNames() {
		for _, flag := range []string{"--help", "-h"} {
			code, out, errOut := runCmd(t, "", name, flag)
			if code != exitOK || errOut != "" || !strings.HasPrefix(out, "usage: git-credential-ghapp") {
				t.Errorf("%s %s: exit %d, stderr %q, stdout %q", name, flag, code, errOut, out)
			}
			if name != "version" && !strings.Contains(out, "\nExamples:\n  ") {
				t.Errorf("%s %s: no examples in\n%s", name, flag, out)
			}
		}
	}
}

// TestGlobalOptionsAfterTheCommand: options after the command win over those before it and over
// the environment, are validated the same way, and a new --hostname derives a new API URL.
func TestGlobalOptionsAfterTheCommand(t *testing.T) {
	getenv := func(k string) string { return map[string]string{"GHAPP_OWNER": "from-env"}[k] }
	o, _, err := parseOptions([]string{"--app-id", "1", "--permissions", "contents:read", "--min-lifetime", "5m"}, getenv)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, getenv: getenv}
	f := newFlags("x", "usage", true)
	asJSON := f.fs.Bool("json", false, "")
	operands, m, code, ok := f.parse(e, o, []string{"acme/app", "--hostname", "GHE.example.com", "--json", "--app-id", "2", "--", "--not-a-flag"})
	if !ok {
		t.Fatalf("parse failed with %d: %s", code, e.stderr)
	}
	if !*asJSON || !slices.Equal(operands, []string{"acme/app", "--not-a-flag"}) {
		t.Fatalf("json %v, operands %q", *asJSON, operands)
	}
	if m.AppID != "2" || m.Hostname != "ghe.example.com" || m.APIURL != "https://ghe.example.com/api/v3" || m.Owner != "from-env" ||
		formatPermissions(m.Permissions) != "contents:read" || m.MinLifetime.String() != "5m0s" {
		t.Fatalf("merged options = %+v", m)
	}
	// Nothing given after the command: the options are those from before, untouched.
	if _, m2, _, _ := newFlags("x", "", true).parse(e, o, nil); m2 != o {
		t.Fatal("options without command flags were rebuilt")
	}
	// An API URL given before the command stays when the command names a host.
	o, _, err = parseOptions([]string{"--app-id", "1", "--api-url", "https://proxy.example/api"}, getenv)
	if err != nil {
		t.Fatal(err)
	}
	if _, m3, _, _ := newFlags("x", "", true).parse(e, o, []string{"--hostname", "ghe.example.com"}); m3.APIURL != "https://proxy.example/api" {
		t.Fatalf("API URL = %s", m3.APIURL)
	}
	// A bad value after the command is a usage error, as before it.
	if _, _, code, ok := newFlags("x", "", true).parse(e, o, []string{"--installation-id", "nope"}); ok || code != exitUsage {
		t.Fatalf("bad --installation-id: ok %v, code %d", ok, code)
	}
}
