//go:build linux

package e2e

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// execIn makes a command run in dir (relative to w.dir) with w's environment plus extra (later
// entries win).
func execIn(w *world, dir string, extra, argv []string) *exec.Cmd {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = w.environ(extra...)
	cmd.Dir = filepath.Join(w.dir, dir)
	return cmd
}

// needRoot: the container recipes change uid and chroot, which needs root (CI runs as root).
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("the container recipes need root (chroot, another uid); CI runs as root")
		}
		t.Skip("needs root: chroot and another uid")
	}
}

// openToOthers lets another uid reach w.dir (t.TempDir makes it and its parent 0700).
func openToOthers(t *testing.T, w *world) {
	t.Helper()
	for _, d := range []string{filepath.Dir(w.dir), w.dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// noPasswdUID is a uid the system has no passwd entry for, as in a container run with --user.
func noPasswdUID(t *testing.T) int {
	t.Helper()
	for uid := 10001; uid < 10100; uid++ {
		if _, err := user.LookupId(strconv.Itoa(uid)); err != nil {
			return uid
		}
	}
	t.Fatal("no free uid between 10001 and 10100")
	return 0
}

// shellWords splits a command line the way sh would for the simple quoting the recipes use
// (double quotes, $(...) and $VAR left to the caller), after joining `\` continuations.
func shellWords(s string) []string {
	s = strings.ReplaceAll(s, "\\\n", " ")
	var words []string
	var cur strings.Builder
	inQuote, have := false, false
	for _, c := range s {
		switch {
		case c == '"':
			inQuote, have = !inQuote, true
		case (c == ' ' || c == '\t' || c == '\n') && !inQuote:
			if have {
				words = append(words, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(c)
			have = true
		}
	}
	if have {
		words = append(words, cur.String())
	}
	return words
}

// dockerfileLines returns the Dockerfile's instructions with continuations joined.
func dockerfileLines(text string) []string {
	return strings.Split(strings.ReplaceAll(text, "\\\n", " "), "\n")
}

// imageRoot lays out what the recipe's image holds that matters to the helper: the binaries
// (COPY --from=helper /go/bin/ /usr/local/bin/), the system git config its RUN lines write, the
// CA bundle (ca-certificates; here the fake's CA), /tmp, and no /etc/passwd. It returns the
// root, the image's ENV, and the image's system git config file.
func imageRoot(t *testing.T, w *world, dockerfile string) (root string, env map[string]string, gitconfig string) {
	t.Helper()
	root = filepath.Join(w.dir, "image")
	for _, d := range []string{"usr/local/bin", "etc/ssl/certs", "tmp", "run/secrets", "proc"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(root, "tmp"), 0o1777); err != nil {
		t.Fatal(err)
	}
	copied := false
	env = map[string]string{}
	gitconfig = filepath.Join(root, "etc", "gitconfig")
	for _, l := range dockerfileLines(dockerfile) {
		switch {
		case strings.HasPrefix(l, "COPY --from=helper /go/bin/ /usr/local/bin/"):
			entries, err := os.ReadDir(binDir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				b, err := os.ReadFile(filepath.Join(binDir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				writeFile(t, filepath.Join(root, "usr/local/bin", e.Name()), b)
				if err := os.Chmod(filepath.Join(root, "usr/local/bin", e.Name()), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			copied = true
		case strings.HasPrefix(l, "RUN git config --system "):
			// Run as written, with the image's /etc/gitconfig standing in for git's system file.
			cmd := execIn(w, "", []string{"GIT_CONFIG_NOSYSTEM=", "GIT_CONFIG_SYSTEM=" + gitconfig}, []string{"sh", "-ec", strings.TrimPrefix(l, "RUN ")})
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", l, err, out)
			}
		case strings.HasPrefix(l, "ENV "):
			k, v, _ := strings.Cut(strings.TrimPrefix(l, "ENV "), "=")
			env[k] = v
		}
	}
	if !copied {
		t.Fatal("the Dockerfile no longer copies /go/bin/ to /usr/local/bin/; update this test")
	}
	if _, err := os.Stat(gitconfig); err != nil {
		t.Fatalf("the Dockerfile's RUN lines wrote no system git config: %v", err)
	}
	ca, err := os.ReadFile(w.srv.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "etc/ssl/certs/ca-certificates.crt"), ca)
	if _, err := os.Stat(filepath.Join(root, "etc/passwd")); err == nil {
		t.Fatal("the image root has an /etc/passwd")
	}
	return root, env, gitconfig
}

// testDockerRecipe runs README's image as far as it can run without docker.
func testDockerRecipe(t *testing.T, dockerfile, dockerRun string) {
	needRoot(t)
	w, app, _ := recipeWorld(t)
	dockerfile, dockerRun = w.recipeText(dockerfile), w.recipeText(dockerRun)
	openToOthers(t, w)
	root, imageEnv, gitconfig := imageRoot(t, w, dockerfile)
	uid := noPasswdUID(t)

	// docker run's options: -e variables, the key mount, the working directory, git's arguments.
	var runLine string
	for _, l := range strings.Split(strings.ReplaceAll(dockerRun, "\\\n", " "), "\n") {
		if strings.HasPrefix(l, "docker run ") {
			runLine = l
		}
	}
	words := shellWords(runLine)
	env := map[string]string{}
	var gitArgs []string
	for i := 2; i < len(words); i++ {
		switch words[i] {
		case "-e":
			k, v, _ := strings.Cut(words[i+1], "=")
			env[k] = v
			i++
		case "-v":
			src, dst, _ := strings.Cut(words[i+1], ":")
			dst = strings.TrimSuffix(dst, ":ro")
			if strings.HasSuffix(src, ".pem") {
				// The app's key, owned by the user docker runs as (--user "$(id -u):$(id -g)").
				writeFile(t, filepath.Join(root, dst), w.apps["ci-bot"].PEM)
				if err := os.Chmod(filepath.Join(root, dst), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chown(filepath.Join(root, dst), uid, uid); err != nil {
					t.Fatal(err)
				}
			}
			i++
		case "--user", "-w":
			i++
		case "--rm":
		case "git-ghapp":
			gitArgs = words[i+1:]
			i = len(words)
		}
	}
	if env["GHAPP_PRIVATE_KEY_FILE"] == "" || len(gitArgs) == 0 {
		t.Fatalf("cannot read the docker run line: %q", runLine)
	}
	env["GHAPP_APP_ID"] = strconv.FormatInt(app.ID, 10) // the recipe's 123
	env["GHAPP_HOSTNAME"] = w.srv.Host                  // github.com is the fake here
	for k, v := range imageEnv {
		env[k] = v
	}
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}

	// 1. The helper alone in the image's root: chroot, a uid without a passwd entry, an
	// environment of nothing but the image's ENV and the -e variables (no PATH, no USER, no
	// SSL_CERT_FILE: the image's CA bundle is found where Go looks for it).
	if err := syscall.Mount("proc", filepath.Join(root, "proc"), "proc", 0, ""); err == nil {
		defer syscall.Unmount(filepath.Join(root, "proc"), syscall.MNT_DETACH)
	} else {
		t.Logf("no /proc in the image root (%v): the helper runs without it", err)
	}
	cmd := exec.Command("/usr/local/bin/git-credential-ghapp", "get")
	cmd.Env = environ
	cmd.Dir = "/"
	cmd.Stdin = strings.NewReader("protocol=https\nhost=" + w.srv.Host + "\npath=acme/app.git\n\n")
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || !strings.Contains(string(out), "username=x-access-token\npassword=ghs_") || stderr.Len() > 0 {
		t.Fatalf("the helper in the image root: %v\nstdout: %s\nstderr: %s", err, out, stderr.String())
	}

	// 2. git itself (not in this root: the test uses the system's) under the same uid and
	// environment, with the image's system config and the container's paths under the root.
	work := filepath.Join(root, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(work, uid, uid); err != nil {
		t.Fatal(err)
	}
	hostEnv := []string{
		"PATH=" + filepath.Join(root, "usr/local/bin") + ":/usr/local/bin:/usr/bin:/bin",
		"GIT_CONFIG_SYSTEM=" + gitconfig,
		"GIT_SSL_CAINFO=" + w.srv.CAFile, // the image's ca-certificates; the system git reads its own bundle
		"SSL_CERT_FILE=" + w.srv.CAFile,
	}
	for k, v := range env {
		if strings.HasPrefix(v, "/") {
			v = filepath.Join(root, v)
		}
		hostEnv = append(hostEnv, k+"="+v)
	}
	git := exec.Command("git", gitArgs...)
	git.Env = hostEnv
	git.Dir = work
	git.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	if out, err := git.CombinedOutput(); err != nil {
		t.Fatalf("git %s as uid %d: %v\n%s", strings.Join(gitArgs, " "), uid, err, out)
	}
	if _, err := os.Stat(filepath.Join(work, "app", "README.md")); err != nil {
		t.Fatalf("the clone is missing: %v", err)
	}
}

// testKubernetesRecipe runs README's Deployment's script with its Secret laid out as the kubelet
// lays it out, and rotates the Secret while the script sleeps.
func testKubernetesRecipe(t *testing.T, manifest string) {
	needRoot(t)
	w, app, _ := recipeWorld(t)
	manifest = w.recipeText(manifest)
	// Cached tokens expire within the helper's 10-minute margin, so every git operation mints:
	// the pull after the rotation must sign a JWT with the key then in the Secret.
	w.srv.SetTokenLifetime(5 * time.Minute)
	uid := noPasswdUID(t)
	openToOthers(t, w)

	scripts := yamlScripts(manifest, "args")
	if len(scripts) != 1 {
		t.Fatalf("want the container's one script, got %q", scripts)
	}
	mountPath := yamlScalar(t, manifest, "mountPath")
	mode, err := strconv.ParseUint(yamlScalar(t, manifest, "defaultMode"), 8, 32)
	if err != nil {
		t.Fatal(err)
	}
	fsGroup, err := strconv.Atoi(yamlScalar(t, manifest, "fsGroup"))
	if err != nil {
		t.Fatal(err)
	}
	// The container's filesystem: mountPath and /tmp under a root of the test's own.
	root := filepath.Join(w.dir, "pod")
	paths := strings.NewReplacer(mountPath, filepath.Join(root, mountPath), "/tmp/", filepath.Join(root, "tmp")+"/")
	script := paths.Replace(scripts[0])
	env := map[string]string{}
	nameRe := regexp.MustCompile(`^\s*- name: ([A-Z_]+)$`)
	lines := strings.Split(manifest, "\n")
	for i, l := range lines {
		m := nameRe.FindStringSubmatch(l)
		if m == nil || i+1 >= len(lines) {
			continue
		}
		next := strings.TrimSpace(lines[i+1])
		switch {
		case strings.HasPrefix(next, "value: "):
			env[m[1]] = paths.Replace(unquote(strings.TrimPrefix(next, "value: ")))
		case strings.Contains(next, "metadata.namespace"):
			env[m[1]] = "default"
		case strings.Contains(next, "metadata.name"):
			env[m[1]] = "mirror-7d9f-x2x"
		}
	}
	if env["GHAPP_PRIVATE_KEY_FILE"] == "" {
		t.Fatal("the manifest sets no GHAPP_PRIVATE_KEY_FILE")
	}
	env["GHAPP_APP_ID"] = strconv.FormatInt(app.ID, 10)

	// The Secret volume as the kubelet writes it: a timestamped directory, ..data pointing at it,
	// and each key a symlink through ..data; files root:fsGroup with defaultMode.
	secret := filepath.Join(root, mountPath)
	writeVersion := func(name string, pem []byte) {
		dir := filepath.Join(secret, name)
		writeFile(t, filepath.Join(dir, "private-key.pem"), pem)
		for p, m := range map[string]os.FileMode{dir: 0o755, filepath.Join(dir, "private-key.pem"): os.FileMode(mode)} {
			if err := os.Chmod(p, m); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(p, 0, fsGroup); err != nil {
				t.Fatal(err)
			}
		}
	}
	swapData := func(name string) {
		// The kubelet's atomic writer: a new symlink renamed over ..data.
		tmp := filepath.Join(secret, "..data_tmp")
		if err := os.Symlink(name, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(secret, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	writeVersion("..2026_12_01_04_00_00.000000001", w.apps["ci-bot"].PEM)
	swapData("..2026_12_01_04_00_00.000000001")
	if err := os.Symlink("..data/private-key.pem", filepath.Join(secret, "private-key.pem")); err != nil {
		t.Fatal(err)
	}

	// The image: HOME=/tmp, the binaries and the system git config of the Dockerfile recipe.
	image, imageEnv, gitconfig := imageRoot(t, w, w.recipeText(readRecipes(t)["dockerfile"]))
	tmp := filepath.Join(root, "tmp")
	if err := os.MkdirAll(tmp, 0o1777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(tmp, 0o1777); err != nil {
		t.Fatal(err)
	}
	// sleep: the first call tells the test it sleeps and waits until the test has rotated the
	// key; the second fails, which ends the script's loop.
	state := filepath.Join(root, "state")
	shim := filepath.Join(root, "shim")
	writeFile(t, filepath.Join(shim, "sleep"), []byte("#!/bin/sh\n"+
		"if [ -e '"+state+"/slept' ]; then exit 1; fi\n"+
		"touch '"+state+"/slept' '"+state+"/sleeping'\n"+
		"while [ ! -e '"+state+"/wake' ]; do /bin/sleep 0.05; done\n"))
	for _, d := range []string{state, shim} {
		if err := os.MkdirAll(d, 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(shim, "sleep"), 0o755); err != nil {
		t.Fatal(err)
	}
	environ := []string{
		"PATH=" + shim + ":" + filepath.Join(image, "usr/local/bin") + ":/usr/local/bin:/usr/bin:/bin",
		"HOME=" + paths.Replace(imageEnv["HOME"]+"/"),
		"GIT_CONFIG_SYSTEM=" + gitconfig,
		"GIT_SSL_CAINFO=" + w.srv.CAFile,
		"SSL_CERT_FILE=" + w.srv.CAFile,
		"GHAPP_HOSTNAME=" + w.srv.Host,
	}
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Env = environ
	cmd.Dir = tmp
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid), Groups: []uint32{uint32(fsGroup)}}}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		if _, err := os.Stat(filepath.Join(state, "sleeping")); err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the script ended before it slept: %v\n%s", err, out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	if n := len(w.srv.Tokens()); n != 1 {
		t.Fatalf("%d tokens before the rotation; want 1 (the clone)", n)
	}

	// Rotate: a new key for the app, the Secret updated, the old key deleted at GitHub.
	newPEM := w.srv.AddKey(app)
	writeVersion("..2026_12_01_05_00_00.000000002", newPEM)
	swapData("..2026_12_01_05_00_00.000000002")
	if err := os.RemoveAll(filepath.Join(secret, "..2026_12_01_04_00_00.000000001")); err != nil {
		t.Fatal(err)
	}
	if !w.srv.DeleteKey(app, app.PEM) {
		t.Fatal("DeleteKey")
	}
	writeFile(t, filepath.Join(state, "wake"), nil)
	if err := <-done; err != nil {
		t.Fatalf("the script after the rotation: %v\n%s", err, out.String())
	}
	if n := len(w.srv.Tokens()); n != 2 {
		t.Fatalf("%d tokens; want 2: the pull after the rotation minted with the new key\n%s", n, out.String())
	}
	// The old key no longer works, so the second mint was signed with the new one.
	old := filepath.Join(w.dir, "old.pem")
	writeFile(t, old, app.PEM)
	if err := os.Chmod(old, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := w.try("", w.helper, "--app-id", env["GHAPP_APP_ID"], "--key-file", old, "--installation-id", "5001", "token", "acme/app"); err == nil {
		t.Fatalf("the deleted key still mints: %s", out)
	}
}

// yamlScalar returns the value of the first `key: value` line.
func yamlScalar(t *testing.T, text, key string) string {
	t.Helper()
	re := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(key) + `: (\S+)`)
	m := re.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no %s in the recipe", key)
	}
	return unquote(m[1])
}
