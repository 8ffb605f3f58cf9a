package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestReproducible builds the archives twice, from different working directories and with a
// different umask of the temporary files, and compares them byte for byte. Two targets keep it
// cheap (a tar.gz and a zip); the release itself builds all six.
func TestReproducible(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	when := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	targets := []string{runtime.GOOS + "/" + runtime.GOARCH, "windows/amd64"}
	if runtime.GOOS == "windows" {
		targets = []string{"windows/amd64", "linux/amd64"}
	}
	var outs [2]string
	for i := range outs {
		outs[i] = filepath.Join(t.TempDir(), fmt.Sprintf("dist%d", i))
		r := &release{Root: root, Out: outs[i], Version: "v9.8.7-test", Targets: targets, Time: when}
		var log bytes.Buffer
		if _, err := r.build(&log); err != nil {
			t.Fatal(err)
		}
	}
	names := []string{"SHA256SUMS"}
	for _, tg := range targets {
		goos, goarch, _ := strings.Cut(tg, "/")
		names = append(names, archiveName("v9.8.7-test", goos, goarch))
	}
	for _, n := range names {
		a, err := os.ReadFile(filepath.Join(outs[0], n))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(outs[1], n))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two builds of the same source", n)
		}
	}

	// SHA256SUMS lists every archive with its checksum, in the form sha256sum -c reads.
	sums, _ := os.ReadFile(filepath.Join(outs[0], "SHA256SUMS"))
	for _, n := range names[1:] {
		data, _ := os.ReadFile(filepath.Join(outs[0], n))
		sum := sha256.Sum256(data)
		if !strings.Contains(string(sums), hex.EncodeToString(sum[:])+"  "+n+"\n") {
			t.Errorf("SHA256SUMS has no line for %s:\n%s", n, sums)
		}
	}
	if sha, err := exec.LookPath("sha256sum"); err == nil {
		cmd := exec.Command(sha, "-c", "SHA256SUMS")
		cmd.Dir = outs[0]
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("sha256sum -c: %v\n%s", err, out)
		}
	}

	// The native archive: entries owned by root, dated `when`, every command under bin/; its
	// helper prints the version from the tag.
	native := filepath.Join(outs[0], names[1])
	top := strings.TrimSuffix(strings.TrimSuffix(names[1], ".tar.gz"), ".zip")
	entries := readArchive(t, native)
	bin := top + "/bin/git-credential-ghapp"
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	if _, ok := entries[bin]; !ok {
		t.Fatalf("%s has no %s; it has %v", names[1], bin, keys(entries))
	}
	// The front hands "version" to the full helper beside it, as the archive lays them out.
	dir := t.TempDir()
	exe := filepath.Join(dir, filepath.Base(bin))
	full := top + "/bin/git-credential-ghapp-full" + strings.TrimPrefix(bin, top+"/bin/git-credential-ghapp")
	if _, ok := entries[full]; !ok {
		t.Fatalf("%s has no %s; it has %v", names[1], full, keys(entries))
	}
	for name, data := range map[string][]byte{exe: entries[bin], filepath.Join(dir, filepath.Base(full)): entries[full]} {
		if err := os.WriteFile(name, data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(exe, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "git-credential-ghapp v9.8.7-test ") {
		t.Errorf("version of the released binary: %q, %v", out, err)
	}
	zipEntries := readArchive(t, filepath.Join(outs[0], archiveName("v9.8.7-test", "windows", "amd64")))
	if runtime.GOOS != "windows" {
		if _, ok := zipEntries["git-credential-ghapp_v9.8.7-test_windows_amd64/bin/git-credential-ghapp.exe"]; !ok {
			t.Errorf("the windows zip has no bin/git-credential-ghapp.exe; it has %v", keys(zipEntries))
		}
	}
}

func keys(m map[string][]byte) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	return k
}

// readArchive returns the regular files of a tar.gz or zip, checking the fixed metadata.
func readArchive(t *testing.T, file string) map[string][]byte {
	t.Helper()
	when := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	files := map[string][]byte{}
	if strings.HasSuffix(file, ".zip") {
		zr, err := zip.OpenReader(file)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		for _, f := range zr.File {
			if !f.Modified.Equal(when) {
				t.Errorf("%s: %s dated %v", file, f.Name, f.Modified)
			}
			if f.FileInfo().IsDir() {
				continue
			}
			rc, _ := f.Open()
			data, _ := io.ReadAll(rc)
			rc.Close()
			files[f.Name] = data
		}
		return files
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if gz.Name != "" || !gz.ModTime.IsZero() && gz.ModTime.Unix() != 0 {
		t.Errorf("%s: gzip header carries name %q, time %v", file, gz.Name, gz.ModTime)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || !h.ModTime.Equal(when) {
			t.Errorf("%s: %s has owner %d:%d (%q:%q), time %v", file, h.Name, h.Uid, h.Gid, h.Uname, h.Gname, h.ModTime)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if strings.Contains(h.Name, "/bin/") && h.Mode != 0o755 || !strings.Contains(h.Name, "/bin/") && h.Mode != 0o644 {
			t.Errorf("%s: %s has mode %o", file, h.Name, h.Mode)
		}
		data, _ := io.ReadAll(tr)
		files[h.Name] = data
	}
	return files
}

// TestTagVersion: the version comes from the tag on HEAD, and an untagged HEAD is an error that
// says what to do.
func TestTagVersion(t *testing.T) {
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	git("commit", "-q", "--allow-empty", "-m", "one")
	if _, err := tagVersion(dir); err == nil || !strings.Contains(err.Error(), "pass -version") {
		t.Errorf("untagged HEAD: %v", err)
	}
	git("tag", "v1.2.3")
	if v, err := tagVersion(dir); err != nil || v != "v1.2.3" {
		t.Errorf("tagVersion = %q, %v; want v1.2.3", v, err)
	}
	git("commit", "-q", "--allow-empty", "-m", "two")
	git("tag", "nightly")
	if _, err := tagVersion(dir); err == nil || !strings.Contains(err.Error(), "is not a version") {
		t.Errorf("a tag that is not a version: %v", err)
	}
}
