// Command ghapp-release builds the release archives of git-credential-ghapp: for linux, darwin
// and windows on amd64 and arm64, every command under ./cmd/ (the front git-credential-ghapp and
// the full helper git-credential-ghapp-full, side by side, where the front finds it) in bin/ of
// one archive per platform (tar.gz; zip for windows), and a SHA256SUMS over them.
//
// The archives are byte-for-byte reproducible from the tagged source with the same Go version:
// static builds (CGO_ENABLED=0) with -trimpath, -buildvcs=false and an empty build id, the
// version stamped with -X main.version; archive entries in a fixed order, owned by 0:0 with
// fixed modes, all dated at the tagged commit's time (or SOURCE_DATE_EPOCH); gzip and zip
// headers without names or times of their own.
//
// Usage, from the repository, on a tag:
//
//	go run ./internal/cmd/ghapp-release                    # version from `git describe --tags --exact-match`
//	go run ./internal/cmd/ghapp-release -version v1.2.3 -out dist
//	go run ./internal/cmd/ghapp-release -targets linux/amd64,windows/arm64
package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// allTargets are the platforms released.
var allTargets = []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64", "windows/arm64"}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ghapp-release", flag.ContinueOnError)
	fs.SetOutput(stderr)
	version := fs.String("version", "", "the version to stamp, e.g. v1.2.3 (default: the tag on HEAD, `git describe --tags --exact-match`)")
	out := fs.String("out", "dist", "the directory for the archives and SHA256SUMS")
	targets := fs.String("targets", strings.Join(allTargets, ","), "comma-separated GOOS/GOARCH list")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintf(stderr, "ghapp-release: %v\n", err)
		return 1
	}
	r := &release{Root: root, Out: *out, Version: *version, Targets: strings.Split(*targets, ",")}
	if r.Version == "" {
		if r.Version, err = tagVersion(root); err != nil {
			fmt.Fprintf(stderr, "ghapp-release: %v\n", err)
			return 1
		}
	}
	files, err := r.build(stdout)
	if err != nil {
		fmt.Fprintf(stderr, "ghapp-release: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %d archives and SHA256SUMS to %s\n", len(files), r.Out)
	return 0
}

// release is one build of the archives.
type release struct {
	Root    string   // the module's directory
	Out     string   // where the archives go (relative to the current directory)
	Version string   // stamped into the binaries and named in the archives
	Targets []string // GOOS/GOARCH
	// Time dates every archive entry; zero means the commit time of HEAD (or SOURCE_DATE_EPOCH).
	Time time.Time
}

var versionRE = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$`)

// tagVersion returns the tag on HEAD in dir, which must name a version (vX.Y.Z).
func tagVersion(dir string) (string, error) {
	cmd := exec.Command("git", "describe", "--tags", "--exact-match")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", errors.New("HEAD is not tagged: tag the release (git tag v1.2.3) or pass -version")
	}
	v := strings.TrimSpace(string(out))
	if !versionRE.MatchString(v) {
		return "", fmt.Errorf("the tag on HEAD, %q, is not a version (vX.Y.Z): pass -version", v)
	}
	return v, nil
}

// moduleRoot is the directory of the main module (so that the tool runs from anywhere in it).
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the git-credential-ghapp module: run it from the repository")
	}
	return filepath.Dir(mod), nil
}

// entryTime is the time every archive entry carries: r.Time, else SOURCE_DATE_EPOCH, else the
// commit time of HEAD; the same source gives the same time.
func (r *release) entryTime() (time.Time, error) {
	if !r.Time.IsZero() {
		return r.Time.UTC(), nil
	}
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q is not a number of seconds", s)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	cmd := exec.Command("git", "log", "-1", "--format=%ct")
	cmd.Dir = r.Root
	out, err := cmd.Output()
	if err != nil {
		return time.Time{}, errors.New("cannot read HEAD's commit time: set SOURCE_DATE_EPOCH")
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("git log gave %q for HEAD's commit time", out)
	}
	return time.Unix(n, 0).UTC(), nil
}

// archiveName is the archive's file name for GOOS/GOARCH; the GitHub Action downloads it by
// this name.
func archiveName(version, goos, goarch string) string {
	ext := ".tar.gz"
	if goos == "windows" {
		ext = ".zip"
	}
	return fmt.Sprintf("git-credential-ghapp_%s_%s_%s%s", version, goos, goarch, ext)
}

// build writes every target's archive and SHA256SUMS to r.Out and returns the archives' names.
func (r *release) build(log io.Writer) ([]string, error) {
	if !versionRE.MatchString(r.Version) {
		return nil, fmt.Errorf("version %q is not vX.Y.Z", r.Version)
	}
	when, err := r.entryTime()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(r.Out, 0o755); err != nil {
		return nil, err
	}
	var names []string
	sums := map[string]string{}
	for _, t := range r.Targets {
		goos, goarch, ok := strings.Cut(strings.TrimSpace(t), "/")
		if !ok || goos == "" || goarch == "" {
			return nil, fmt.Errorf("target %q is not GOOS/GOARCH", t)
		}
		bins, err := r.compile(goos, goarch)
		if err != nil {
			return nil, err
		}
		name := archiveName(r.Version, goos, goarch)
		top := strings.TrimSuffix(strings.TrimSuffix(name, ".tar.gz"), ".zip")
		files := []archiveFile{}
		for _, b := range bins {
			files = append(files, archiveFile{Name: top + "/bin/" + b.name, Data: b.data, Mode: 0o755})
		}
		for _, doc := range []string{"README.md", "LICENSE"} {
			if data, err := os.ReadFile(filepath.Join(r.Root, doc)); err == nil {
				files = append(files, archiveFile{Name: top + "/" + doc, Data: data, Mode: 0o644})
			}
		}
		var buf bytes.Buffer
		if goos == "windows" {
			err = writeZip(&buf, top, files, when)
		} else {
			err = writeTarGz(&buf, top, files, when)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(r.Out, name), buf.Bytes(), 0o644); err != nil {
			return nil, err
		}
		sum := sha256.Sum256(buf.Bytes())
		sums[name] = hex.EncodeToString(sum[:])
		names = append(names, name)
		fmt.Fprintf(log, "%s  %s\n", sums[name], name)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s  %s\n", sums[n], n)
	}
	return names, os.WriteFile(filepath.Join(r.Out, "SHA256SUMS"), []byte(b.String()), 0o644)
}

type binary struct {
	name string
	data []byte
}

// compile builds every main package under ./cmd/ for goos/goarch, static and reproducible, and
// returns the binaries in name order.
func (r *release) compile(goos, goarch string) ([]binary, error) {
	tmp, err := os.MkdirTemp("", "ghapp-release-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w -buildid= -X main.version="+r.Version,
		"-o", tmp+string(os.PathSeparator), "./cmd/...")
	cmd.Dir = r.Root
	// Only what the release pins: nothing of the caller's GOFLAGS, CGO or microarchitecture
	// settings leaks into the binaries.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch, "GOFLAGS=",
		"GOAMD64=v1", "GOARM64=v8.0", "GOEXPERIMENT=", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build for %s/%s: %v\n%s", goos, goarch, err, out)
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return nil, err
	}
	var bins []binary
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(tmp, e.Name()))
		if err != nil {
			return nil, err
		}
		bins = append(bins, binary{name: e.Name(), data: data})
	}
	if len(bins) == 0 {
		return nil, fmt.Errorf("go build for %s/%s made no binary", goos, goarch)
	}
	slices.SortFunc(bins, func(a, b binary) int { return strings.Compare(a.name, b.name) })
	return bins, nil
}

type archiveFile struct {
	Name string
	Data []byte
	Mode int64
}

// dirsOf lists the directories the files need, parents first, in name order.
func dirsOf(top string, files []archiveFile) []string {
	seen := map[string]bool{top + "/": true}
	dirs := []string{top + "/"}
	for _, f := range files {
		for d := filepath.ToSlash(filepath.Dir(f.Name)); d != "." && !seen[d+"/"]; d = filepath.ToSlash(filepath.Dir(d)) {
			seen[d+"/"] = true
			dirs = append(dirs, d+"/")
		}
	}
	slices.Sort(dirs)
	return dirs
}

// writeTarGz writes a ustar archive, owned by 0:0 with fixed modes and times, gzip'd with no name
// or time in the gzip header.
func writeTarGz(w io.Writer, top string, files []archiveFile, when time.Time) error {
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	for _, d := range dirsOf(top, files) {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: when, Format: tar.FormatUSTAR}); err != nil {
			return err
		}
	}
	for _, f := range files {
		h := &tar.Header{Typeflag: tar.TypeReg, Name: f.Name, Mode: f.Mode, Size: int64(len(f.Data)), ModTime: when, Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

// writeZip writes a zip archive with fixed modes and times, deflated.
func writeZip(w io.Writer, top string, files []archiveFile, when time.Time) error {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestCompression)
	})
	for _, d := range dirsOf(top, files) {
		h := &zip.FileHeader{Name: d, Method: zip.Store, Modified: when}
		h.SetMode(os.ModeDir | 0o755)
		if _, err := zw.CreateHeader(h); err != nil {
			return err
		}
	}
	for _, f := range files {
		h := &zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: when}
		h.SetMode(os.FileMode(f.Mode))
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		if _, err := fw.Write(f.Data); err != nil {
			return err
		}
	}
	return zw.Close()
}
