// Package cache keeps installation tokens, installation mappings and the learned clock offset
// between processes, so that each `get` (a new process) can reuse what an earlier one minted.
//
// Everything lives in one directory that only the current user may read (0700, files 0600).
// Anything unexpected in it (a corrupt or truncated file, a file owned by someone else or readable
// by others, an entry whose key does not match the one asked for) is treated as a miss, never as
// an error that stops git.
package cache

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/adrg/xdg"
)

// DirName is the name of the helper's directory under the XDG runtime or cache directory.
const DirName = "git-credential-ghapp"

// maxFileSize bounds what is read from any cache file; a larger file is not ours.
const maxFileSize = 64 << 10

// DefaultDir returns where the cache lives: $XDG_RUNTIME_DIR/git-credential-ghapp when
// XDG_RUNTIME_DIR is set (a per-login tmpfs that vanishes on logout), else the platform's cache
// directory ($XDG_CACHE_HOME or ~/.cache on Linux, ~/Library/Caches on macOS, %LOCALAPPDATA% on
// Windows). GHAPP_CACHE_DIR, when it is an absolute path, is the directory itself and wins: the
// GitHub Action gives each job its own, so that its post step revokes exactly what the job
// minted. It reads the environment each time it is called, so it follows changes in tests.
func DefaultDir() string {
	if d := os.Getenv("GHAPP_CACHE_DIR"); d != "" && filepath.IsAbs(d) {
		return d
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, DirName)
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, DirName)
	}
	return filepath.Join(xdg.CacheHome, DirName)
}

// InsecureDirError reports a cache directory that others could read or that belongs to someone
// else. The cache refuses such a directory: tokens written there could be stolen.
type InsecureDirError struct {
	Dir    string
	Reason string
}

// Error says which directory was refused, why, and how to fix it.
func (e *InsecureDirError) Error() string {
	return fmt.Sprintf("refusing the token cache %s: %s", e.Dir, e.Reason)
}

// currentUID is the user whose files the cache trusts; a variable so tests can play another user.
var currentUID = os.Getuid

// Store is a cache directory. Its methods are safe for use by many processes at once.
type Store struct {
	dir string
}

// Open returns the store in dir, creating the directory (0700) when it is missing. It fails with
// an *InsecureDirError when dir is not a directory, is a symbolic link, belongs to another user,
// or is accessible to group or others; the message says how to fix it.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("no cache directory")
	}
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("cannot create the token cache: %w", err)
		}
		fi, err = os.Lstat(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot use the token cache: %w", err)
	}
	if !fi.IsDir() {
		return nil, &InsecureDirError{Dir: dir, Reason: "it is not a directory (remove it)"}
	}
	if !ownedByMe(fi) {
		return nil, &InsecureDirError{Dir: dir, Reason: "it belongs to another user (remove it or set XDG_RUNTIME_DIR)"}
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, &InsecureDirError{Dir: dir, Reason: fmt.Sprintf("it is accessible to others (mode %04o): run chmod 700 %s", fi.Mode().Perm(), dir)}
	}
	return &Store{dir: dir}, nil
}

// Dir returns the directory of the store.
func (s *Store) Dir() string { return s.dir }

// Key names the scope a token was minted for. Two keys are the same scope exactly when their
// canonical forms are equal: host and app compare case-insensitively, repositories as a set of
// lower-cased names, permissions as a set of name:level pairs.
type Key struct {
	Host           string            `json:"host"`
	App            string            `json:"app"`
	InstallationID int64             `json:"installation_id"`
	Repositories   []string          `json:"repositories,omitempty"` // names without owner; empty = every repository of the installation
	Permissions    map[string]string `json:"permissions,omitempty"`  // empty = the installation's permissions
}

// canonical returns the one string that identifies the key's scope.
func (k Key) canonical() string {
	repos := make([]string, len(k.Repositories))
	for i, r := range k.Repositories {
		repos[i] = strings.ToLower(r)
	}
	sort.Strings(repos)
	perms := make([]string, 0, len(k.Permissions))
	for name, level := range k.Permissions {
		perms = append(perms, strings.ToLower(name)+":"+strings.ToLower(level))
	}
	sort.Strings(perms)
	var b strings.Builder
	b.WriteString("token/v1\x00")
	b.WriteString(strings.ToLower(k.Host))
	b.WriteByte(0)
	b.WriteString(strings.ToLower(k.App))
	b.WriteByte(0)
	b.WriteString(strconv.FormatInt(k.InstallationID, 10))
	b.WriteByte(0)
	b.WriteString(strings.Join(repos, ","))
	b.WriteByte(0)
	b.WriteString(strings.Join(perms, ","))
	return b.String()
}

// ID returns a file-name-safe digest of the key's canonical form.
func (k Key) ID() string { return digest(k.canonical()) }

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

// Entry is one cached installation token and what GitHub said about it.
type Entry struct {
	Key                 Key               `json:"key"`
	Token               string            `json:"token"`
	ExpiresAt           time.Time         `json:"expires_at"`
	CreatedAt           time.Time         `json:"created_at"`
	Permissions         map[string]string `json:"permissions,omitempty"`          // as granted by GitHub
	RepositorySelection string            `json:"repository_selection,omitempty"` // "all" or "selected"
	Repositories        []string          `json:"repositories,omitempty"`         // full names as granted
}

// Valid reports whether the token may still be handed out at now: it must have at least minLeft
// of its life left, so that an operation that starts with it does not outlive it.
func (e *Entry) Valid(now time.Time, minLeft time.Duration) bool {
	return e != nil && e.Token != "" && e.ExpiresAt.Sub(now) >= minLeft
}

func (s *Store) tokenPath(k Key) string { return filepath.Join(s.dir, "token-"+k.ID()+".json") }

// Get returns the entry cached for k if it is valid at now with at least minLeft to spare.
// A missing, unreadable, corrupt, foreign or expiring entry, or one stored under another
// scope, is a miss (nil, false).
func (s *Store) Get(k Key, now time.Time, minLeft time.Duration) (*Entry, bool) {
	var e Entry
	if !s.readJSON(s.tokenPath(k), &e) {
		return nil, false
	}
	if e.Key.canonical() != k.canonical() || !e.Valid(now, minLeft) {
		return nil, false
	}
	return &e, true
}

// Put stores e under e.Key, replacing what was there, atomically: a reader sees the old entry or
// the new one, never a part of either.
func (s *Store) Put(e *Entry) error {
	return s.writeJSON(s.tokenPath(e.Key), e)
}

// Delete forgets the entry for k. A missing entry is not an error.
func (s *Store) Delete(k Key) error {
	return removeIfExists(s.tokenPath(k))
}

// Forget removes every cached entry whose token is token, and reports whether there was one.
// Tokens are compared in constant time.
func (s *Store) Forget(token string) (bool, error) {
	if token == "" {
		return false, nil
	}
	entries, paths := s.list()
	found := false
	for i, e := range entries {
		if subtle.ConstantTimeCompare([]byte(e.Token), []byte(token)) == 1 {
			found = true
			if err := removeIfExists(paths[i]); err != nil {
				return found, err
			}
		}
	}
	return found, nil
}

// List returns every readable cached entry, expired ones included, ordered by host, app,
// installation and expiry. Unreadable files are skipped.
func (s *Store) List() []Entry {
	entries, _ := s.list()
	sort.SliceStable(entries, func(i, j int) bool {
		a, b := entries[i], entries[j]
		if a.Key.Host != b.Key.Host {
			return a.Key.Host < b.Key.Host
		}
		if a.Key.App != b.Key.App {
			return a.Key.App < b.Key.App
		}
		if a.Key.InstallationID != b.Key.InstallationID {
			return a.Key.InstallationID < b.Key.InstallationID
		}
		return a.ExpiresAt.Before(b.ExpiresAt)
	})
	return entries
}

func (s *Store) list() ([]Entry, []string) {
	names, err := filepath.Glob(filepath.Join(s.dir, "token-*.json"))
	if err != nil {
		return nil, nil
	}
	var entries []Entry
	var paths []string
	for _, p := range names {
		var e Entry
		if s.readJSON(p, &e) && e.Token != "" {
			entries = append(entries, e)
			paths = append(paths, p)
		}
	}
	return entries, paths
}

// mapping is a cached answer of installation discovery.
type mapping struct {
	Target         string    `json:"target"`
	InstallationID int64     `json:"installation_id"`
	Account        string    `json:"account,omitempty"`
	StoredAt       time.Time `json:"stored_at"`
}

// MappingTTL is how long a discovered installation is trusted before it is looked up again.
// Installations rarely move; a mint that fails for a cached mapping drops it earlier.
const MappingTTL = 7 * 24 * time.Hour

func (s *Store) mappingPath(host, app, target string) string {
	return filepath.Join(s.dir, "installation-"+digest("installation/v1\x00"+strings.ToLower(host)+"\x00"+strings.ToLower(app)+"\x00"+strings.ToLower(target))+".json")
}

// Installation returns the installation id cached for target (e.g. "repo:acme/app" or
// "owner:acme") of the app on host, if one was stored within MappingTTL of now.
func (s *Store) Installation(host, app, target string, now time.Time) (int64, bool) {
	var m mapping
	if !s.readJSON(s.mappingPath(host, app, target), &m) {
		return 0, false
	}
	if !strings.EqualFold(m.Target, target) || m.InstallationID <= 0 || now.Sub(m.StoredAt) > MappingTTL || m.StoredAt.After(now.Add(time.Hour)) {
		return 0, false
	}
	return m.InstallationID, true
}

// PutInstallation caches the installation id found for target.
func (s *Store) PutInstallation(host, app, target string, id int64, now time.Time) error {
	return s.writeJSON(s.mappingPath(host, app, target), &mapping{Target: target, InstallationID: id, StoredAt: now.UTC()})
}

// DropInstallation forgets the installation cached for target.
func (s *Store) DropInstallation(host, app, target string) error {
	return removeIfExists(s.mappingPath(host, app, target))
}

type clockOffset struct {
	Host   string        `json:"host"`
	Offset time.Duration `json:"offset_ns"`
}

func (s *Store) clockPath(host string) string {
	return filepath.Join(s.dir, "clock-"+digest("clock/v1\x00"+strings.ToLower(host))+".json")
}

// ClockOffset returns the offset of host's clock from ours (theirs minus ours) learned by an
// earlier process, or 0.
func (s *Store) ClockOffset(host string) time.Duration {
	var c clockOffset
	if !s.readJSON(s.clockPath(host), &c) || !strings.EqualFold(c.Host, host) {
		return 0
	}
	return c.Offset
}

// PutClockOffset remembers host's clock offset for later processes.
func (s *Store) PutClockOffset(host string, d time.Duration) error {
	return s.writeJSON(s.clockPath(host), &clockOffset{Host: host, Offset: d})
}

// readJSON decodes the file at path into v. It returns false for any file that is missing,
// not a regular file, not ours, readable by others, too large or not valid JSON.
func (s *Store) readJSON(path string, v any) bool {
	f, err := os.OpenFile(path, os.O_RDONLY|noFollow, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > maxFileSize || !ownedByMe(fi) {
		return false
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return false
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil || len(data) > maxFileSize {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return false
	}
	return true
}

// writeJSON writes v to path atomically with mode 0600.
func (s *Store) writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(s.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("cannot write the token cache: %w", err)
	}
	tmp := f.Name()
	if err := f.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("cannot write the token cache: %w", err)
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("cannot write the token cache: %w", werr)
	}
	return nil
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
