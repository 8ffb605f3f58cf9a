package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/git-credential-ghapp/git-credential-ghapp/internal/fakegithub"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/testhome"
)

// Git LFS (Debian's git-lfs, installed by .ci/run): a push uploads the objects through the batch
// API and a clone's smudge filter downloads them, each asking git's credential helpers for
// OWNER/REPO.git/info/lfs (useHttpPath), so every token the helper mints covers that one
// repository.
func TestGitLFSCloneAndPush(t *testing.T) {
	testhome.Need(t, "git-lfs", ".ci/run installs it")
	w := newWorld(t)
	app, pem := w.app("ci-bot")
	if err := w.srv.AddRepo("acme/media"); err != nil {
		t.Fatal(err)
	}
	inst := w.srv.Install(app, "acme", "Organization", map[string]string{"contents": "write", "metadata": "read"})
	w.helperFor("acme", app, pem)
	w.git("", "lfs", "install", "--skip-repo")
	url := "https://" + w.srv.Host + "/acme/media.git"

	// Push a new LFS object.
	w.git("", "clone", "-q", url, "pusher")
	w.git("pusher", "lfs", "track", "*.bin")
	first := randomBytes(t, 200<<10)
	writeFile(t, filepath.Join(w.dir, "pusher", "model.bin"), first)
	w.git("pusher", "add", ".gitattributes", "model.bin")
	w.git("pusher", "commit", "-q", "-m", "add a model")
	w.git("pusher", "push", "-q", "origin", "HEAD:main")
	if got, ok := w.srv.LFSObject("acme/media", oidOf(first)); !ok || !bytes.Equal(got, first) {
		t.Fatalf("the pushed LFS object is not on the fake (stored: %v)", ok)
	}
	if w.srv.Count(fakegithub.RouteLFSUpload) != 1 || w.srv.Count(fakegithub.RouteLFSVerify) != 1 {
		t.Fatalf("uploads %d, verifies %d; want 1 each", w.srv.Count(fakegithub.RouteLFSUpload), w.srv.Count(fakegithub.RouteLFSVerify))
	}

	// A fresh clone (a new cache: another machine) smudges the object through the helper.
	w.env["XDG_RUNTIME_DIR"] = filepath.Join(w.dir, "run2")
	if err := os.MkdirAll(w.env["XDG_RUNTIME_DIR"], 0o700); err != nil {
		t.Fatal(err)
	}
	w.srv.ResetCounters()
	w.git("", "clone", "-q", url, "cloner")
	got, err := os.ReadFile(filepath.Join(w.dir, "cloner", "model.bin"))
	if err != nil || !bytes.Equal(got, first) {
		t.Fatalf("the clone's model.bin is not the object (%d bytes, %v): %.200s", len(got), err, got)
	}
	if n := w.srv.Count(fakegithub.RouteLFSDownload); n != 1 {
		t.Fatalf("%d LFS downloads; want 1", n)
	}

	// From the clone, push another object.
	second := randomBytes(t, 50<<10)
	writeFile(t, filepath.Join(w.dir, "cloner", "weights.bin"), second)
	w.git("cloner", "add", "weights.bin")
	w.git("cloner", "commit", "-q", "-m", "add weights")
	w.git("cloner", "push", "-q", "origin", "HEAD:main")
	if got, ok := w.srv.LFSObject("acme/media", oidOf(second)); !ok || !bytes.Equal(got, second) {
		t.Fatal("the second LFS object is not on the fake")
	}
	if out := w.git("cloner", "lfs", "ls-files"); !strings.Contains(out, "model.bin") || !strings.Contains(out, "weights.bin") {
		t.Fatalf("git lfs ls-files:\n%s", out)
	}

	// Every token was minted for acme/media alone, by its installation.
	for _, m := range w.srv.Mints() {
		if m.InstallationID != inst.ID || !slices.Equal(m.Repositories, []string{"media"}) {
			t.Fatalf("a mint for %d %v; want installation %d, repository media only", m.InstallationID, m.Repositories, inst.ID)
		}
	}
}

// The go command fetching private modules straight from git (GOPRIVATE, GOPROXY=direct), as a
// build does on github.com: the module path is github.com/OWNER/REPO, for which the go command
// has a built-in rule (`go help importpath`: "A few common code hosting sites have special
// syntax", GitHub among them; no ?go-get=1 discovery) and runs `git ls-remote https://github.com/OWNER/REPO`;
// git's url.<fake>.insteadOf https://github.com/ stands in for DNS and sends that to the fake,
// where the helper is configured per owner. The second module depends on a module of another
// owner, served by another app (two helper lines, as README's "Two apps").
func TestGoModDownloadPrivateModules(t *testing.T) {
	w := newWorld(t)
	acmeApp, acmePEM := w.app("ci-bot")
	umbrellaApp, umbrellaPEM := w.app("docs-bot")
	for _, r := range []string{"acme/app", "umbrella/dep"} {
		if err := w.srv.AddRepo(r); err != nil {
			t.Fatal(err)
		}
	}
	acme := w.srv.Install(acmeApp, "acme", "Organization", map[string]string{"contents": "read", "metadata": "read"})
	umbrella := w.srv.Install(umbrellaApp, "umbrella", "Organization", map[string]string{"contents": "read", "metadata": "read"})
	w.seed("umbrella/dep", map[string]string{
		"go.mod": "module github.com/umbrella/dep\n\ngo 1.21\n",
		"dep.go": "// Package dep is a private module of another owner.\npackage dep\n\n// Answer is 42.\nfunc Answer() int { return 42 }\n",
	}, "v1.0.0")
	w.seed("acme/app", map[string]string{
		"go.mod": "module github.com/acme/app\n\ngo 1.21\n\nrequire github.com/umbrella/dep v1.0.0\n",
		"app.go": "// Package app depends on umbrella's module.\npackage app\n\nimport \"github.com/umbrella/dep\"\n\n// Answer asks dep.\nfunc Answer() int { return dep.Answer() }\n",
	}, "v1.0.0")
	w.helperFor("acme", acmeApp, acmePEM)
	w.helperFor("umbrella", umbrellaApp, umbrellaPEM)
	w.git("", "config", "--global", "url.https://"+w.srv.Host+"/.insteadOf", "https://github.com/")

	goCache := strings.TrimSpace(w.run("", "go", "env", "GOCACHE"))
	if goCache == "" {
		t.Fatal("go env GOCACHE is empty")
	}
	for k, v := range map[string]string{
		"GOPRIVATE":   "github.com/acme,github.com/umbrella",
		"GOPROXY":     "direct",
		"GOFLAGS":     "-mod=mod -modcacherw",
		"GOMODCACHE":  filepath.Join(w.dir, "modcache"),
		"GOPATH":      filepath.Join(w.dir, "gopath"),
		"GOCACHE":     goCache,
		"GOTOOLCHAIN": "local",
		"GOENV":       "off",
		"CGO_ENABLED": "0",
	} {
		w.env[k] = v
	}

	// One private module.
	out := w.run("", "go", "mod", "download", "-json", "github.com/umbrella/dep@v1.0.0")
	if !strings.Contains(out, `"Version": "v1.0.0"`) || strings.Contains(out, `"Error"`) {
		t.Fatalf("go mod download:\n%s", out)
	}
	if got := w.minted(); !slices.Equal(got, []string{strconv.FormatInt(umbrella.ID, 10) + ":dep"}) {
		t.Fatalf("mints %v; want one for umbrella/dep by docs-bot's installation", got)
	}

	// A module that depends on the other owner's module: both come through their own app (a
	// fresh module cache and token cache, as on another machine).
	w.env["GOMODCACHE"] = filepath.Join(w.dir, "modcache2")
	w.env["XDG_RUNTIME_DIR"] = filepath.Join(w.dir, "run2")
	if err := os.MkdirAll(w.env["XDG_RUNTIME_DIR"], 0o700); err != nil {
		t.Fatal(err)
	}
	consumer := filepath.Join(w.dir, "consumer")
	writeFile(t, filepath.Join(consumer, "go.mod"), []byte("module example.com/consumer\n\ngo 1.21\n"))
	writeFile(t, filepath.Join(consumer, "main.go"), []byte("package main\n\nimport (\n\t\"fmt\"\n\n\t\"github.com/acme/app\"\n)\n\nfunc main() { fmt.Println(app.Answer()) }\n"))
	w.srv.ResetCounters()
	w.run("consumer", "go", "get", "github.com/acme/app@v1.0.0")
	// The build sees both modules' packages (go list loads them without compiling).
	if out := w.run("consumer", "go", "list", "-deps", "."); !strings.Contains(out, "github.com/acme/app\n") || !strings.Contains(out, "github.com/umbrella/dep\n") {
		t.Fatalf("go list -deps:\n%s", out)
	}
	w.run("consumer", "go", "mod", "verify")
	got := w.minted()
	slices.Sort(got)
	want := []string{strconv.FormatInt(acme.ID, 10) + ":app", strconv.FormatInt(umbrella.ID, 10) + ":dep"}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("mints %v; want %v (each module through its owner's app)", got, want)
	}
}

// git clone --recurse-submodules of a repository whose submodule lives under another owner,
// served by another app: git asks the helper configured for each owner's URL.
func TestSubmodulesAcrossTwoOwners(t *testing.T) {
	w := newWorld(t)
	acmeApp, acmePEM := w.app("ci-bot")
	umbrellaApp, umbrellaPEM := w.app("docs-bot")
	for _, r := range []string{"acme/super", "umbrella/lib"} {
		if err := w.srv.AddRepo(r); err != nil {
			t.Fatal(err)
		}
	}
	acme := w.srv.Install(acmeApp, "acme", "Organization", map[string]string{"contents": "read", "metadata": "read"})
	umbrella := w.srv.Install(umbrellaApp, "umbrella", "Organization", map[string]string{"contents": "read", "metadata": "read"})

	// acme/super records umbrella/lib's main as the submodule lib (made locally, no credentials).
	libHead := strings.Fields(w.git("", "ls-remote", w.srv.RepoPath("umbrella/lib"), "refs/heads/main"))[0]
	w.seed("acme/super", map[string]string{
		".gitmodules": "[submodule \"lib\"]\n\tpath = lib\n\turl = https://" + w.srv.Host + "/umbrella/lib.git\n",
	}, "")
	work := filepath.Join("seed", "acme/super")
	w.git(work, "update-index", "--add", "--cacheinfo", "160000,"+libHead+",lib")
	w.git(work, "commit", "-q", "-m", "add lib")
	w.git(work, "push", "-q", "origin", "HEAD:main")

	w.helperFor("acme", acmeApp, acmePEM)
	w.helperFor("umbrella", umbrellaApp, umbrellaPEM)
	w.git("", "clone", "-q", "--recurse-submodules", "https://"+w.srv.Host+"/acme/super.git", "super")
	if _, err := os.Stat(filepath.Join(w.dir, "super", "lib", "README.md")); err != nil {
		t.Fatalf("the submodule was not checked out: %v", err)
	}
	got := w.minted()
	slices.Sort(got)
	want := []string{strconv.FormatInt(acme.ID, 10) + ":super", strconv.FormatInt(umbrella.ID, 10) + ":lib"}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("mints %v; want %v", got, want)
	}
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func oidOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
