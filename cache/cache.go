// Package cache keeps installation tokens, installation mappings and the learned clock offset
// between processes, so that each `get` (a new process) can reuse what an earlier one minted.
//
// Everything lives in one directory that only the current user may read (0700, files 0600).
// Anything unexpected in it (a corrupt or truncated file, a file owned by someone else or readable
// by others, an entry whose key does not match the one asked for) is treated as a miss, never as
// an error that stops git.
package cache

import (
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/bits"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DirName is the name of the helper's directory under the XDG runtime or cache directory.
const DirName = "git-credential-ghapp"

// maxFileSize bounds what is read from any cache file; a larger file is not ours.
const maxFileSize = 64 << 10

// DefaultDir returns where the cache lives: $XDG_RUNTIME_DIR/git-credential-ghapp when
// XDG_RUNTIME_DIR is set (a per-login tmpfs that vanishes on logout), else the platform's cache
// directory ($XDG_CACHE_HOME or ~/.cache on Linux, ~/Library/Caches on macOS,
// %LOCALAPPDATA%\cache on Windows, as the XDG base directory conventions place it).
// GHAPP_CACHE_DIR, when it is an absolute path, is the directory itself and wins: the GitHub
// Action gives each job its own, so that its post step revokes exactly what the job minted. It
// reads the environment each time it is called, so it follows changes in tests.
func DefaultDir() string { return DefaultDirFrom(os.Getenv) }

// DefaultDirFrom is DefaultDir with the environment read through getenv.
func DefaultDirFrom(getenv func(string) string) string {
	if d := getenv("GHAPP_CACHE_DIR"); d != "" && filepath.IsAbs(d) {
		return d
	}
	if d := getenv("XDG_RUNTIME_DIR"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, DirName)
	}
	return filepath.Join(cacheHome(getenv), DirName)
}

// cacheHome is the user's cache directory: $XDG_CACHE_HOME when it names an absolute path (a
// leading ~ or $HOME, %USERPROFILE% on Windows, expanded), else the platform's default. It gives
// what github.com/adrg/xdg's CacheHome gives, without that package's start-up work.
func cacheHome(getenv func(string) string) string {
	if d := expandHome(getenv("XDG_CACHE_HOME"), getenv); d != "" && filepath.IsAbs(d) {
		return d
	}
	if d := expandHome(platformCacheHome(getenv), getenv); filepath.IsAbs(d) {
		return d
	}
	return ""
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
// It is asked of the system once: a cached get checks the owner of three files.
var currentUID = func() int { return processUID }

var processUID = os.Getuid()

// DefaultLockWait is how long, at most, a Store waits for locks that other processes hold, all
// its Lock and LockInstallation calls together, before it gives up on locking.
const DefaultLockWait = 10 * time.Second

// Store is a cache directory, opened once: every file is reached through the open directory, so
// the directory cannot be swapped for another by renaming its parents while a process uses it.
// Its methods are safe for use by many processes at once.
type Store struct {
	dir string
	// reads is the directory for reading cache files: with plain system calls where the
	// platform has them (see read_unix.go), as an os.File costs a cached get more than its read.
	reads readDir

	rootMu sync.Mutex
	root   *os.Root // the same directory, for writes, locks and listings; see dirRoot

	// LockWait bounds the time the store's Lock, LockInstallation, AwaitLock and
	// AwaitInstallationLock calls spend waiting for other processes, all calls together (a lock
	// holder may be stopped or hung); after that they return an error wrapping ErrLockWait. Open
	// sets it to DefaultLockWait.
	LockWait time.Duration

	mu      sync.Mutex
	waited  time.Duration // spent waiting on locks so far
	adopted *os.File      // a lock handed over to this process, until claimed (see Adopt)

	// scratch is where Get and Installation read their file when it fits (a token for a few
	// repositories does, as does every mapping): part of the Store, so that a cached get
	// allocates nothing to read its two files. Their decoders copy out what they keep.
	scratchMu sync.Mutex
	scratch   [512]byte
}

// Open returns the store in dir, creating the directory (0700) when it is missing, and keeps
// the directory open until Close. It fails with an *InsecureDirError when dir is not a
// directory, is a symbolic link, belongs to another user, is accessible to group or others, or
// is replaced while it is being opened; the message says how to fix it.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("no cache directory")
	}
	root, reads, err := openDir(dir)
	if err != nil {
		return nil, err
	}
	return &Store{dir: dir, reads: reads, root: root, LockWait: DefaultLockWait}, nil
}

// Close releases the open directory, and a lock Adopt took over that no call claimed. The
// store must not be used afterwards.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.adopted != nil {
		unlockFile(s.adopted)
		s.adopted.Close()
		s.adopted = nil
	}
	s.mu.Unlock()
	s.reads.close()
	s.rootMu.Lock()
	defer s.rootMu.Unlock()
	if s.root == nil {
		return nil
	}
	return s.root.Close()
}

// dirRoot returns the store's directory as an os.Root, through which everything but reading a
// file goes. Where the platform opens it lazily (Linux: a cached get never needs it), the
// first call opens it.
func (s *Store) dirRoot() (*os.Root, error) {
	s.rootMu.Lock()
	defer s.rootMu.Unlock()
	if s.root == nil {
		root, err := s.reads.root(s.dir)
		if err != nil {
			return nil, err
		}
		s.root = root
	}
	return s.root, nil
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

// ID returns a file-name-safe digest of the key's canonical form: two keys have the same ID
// exactly when they name the same scope.
func (k Key) ID() string { return digest(k.canonical()) }

// tokenBase is the file name of the token whose key has the canonical form c, without its
// extension; its lock shares it.
func tokenBase(c string) string { return "token-" + digest(c) }

// digest names a file after s: the 128-bit FNV-1a hash of s, in hex. The hash need not resist
// a forger: it only spreads names over files, and every file holds its full key (a token's Key,
// a mapping's host, app and target, a clock's host), which a read compares with what it looks
// for, so a name shared by two keys is a miss for one of them, never the other's token. A
// cryptographic hash here would link crypto/sha256, and with it Go's FIPS 140 module, into the
// front that git starts for every request.
func digest(s string) string {
	var sum [16]byte
	hi, lo := fnv128a(s)
	binary.BigEndian.PutUint64(sum[:8], hi)
	binary.BigEndian.PutUint64(sum[8:], lo)
	const hexDigits = "0123456789abcdef"
	var name [32]byte
	for i, c := range sum {
		name[2*i], name[2*i+1] = hexDigits[c>>4], hexDigits[c&0xf]
	}
	return string(name[:])
}

// fnv128a returns the 128-bit FNV-1a hash of s, high and low halves: what hash/fnv's New128a
// sums to (TestFNV128aIsHashFNV holds it to that), computed here because the hash.Hash interface
// costs a cached get four allocations and an itab for sixteen bytes of state.
func fnv128a(s string) (hi, lo uint64) {
	// FNV-1a 128's offset basis, and its prime 2^88 + 0x13b, as hash/fnv has them.
	hi, lo = 0x6c62272e07bb0142, 0x62b821756295c58d
	for i := 0; i < len(s); i++ {
		lo ^= uint64(s[i])
		// (hi, lo) * (2^88 + 0x13b) mod 2^128: the 2^88 term moves lo into hi, shifted by 24.
		carry, low := bits.Mul64(lo, 0x13b)
		hi = hi*0x13b + carry + lo<<24
		lo = low
	}
	return hi, lo
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

func tokenName(k Key) string { return tokenBase(k.canonical()) + ".json" }

// Get returns the entry cached for k if it is valid at now with at least minLeft to spare.
// A missing, unreadable, corrupt, foreign or expiring entry, one stored under another scope, or
// anything that is not a regular file (a FIFO, a socket, a link out of the directory), is a miss
// (nil, false); deciding that never blocks.
func (s *Store) Get(k Key, now time.Time, minLeft time.Duration) (*Entry, bool) {
	want := k.canonical() // once: it names the file and is what the file's key must be
	s.scratchMu.Lock()
	defer s.scratchMu.Unlock()
	data, ok := s.read(tokenBase(want)+".json", s.scratch[:])
	if !ok {
		return nil, false
	}
	e, ok := decodeEntry(data)
	if !ok || e.Key.canonical() != want || !e.Valid(now, minLeft) {
		return nil, false
	}
	return e, true
}

// Put stores e under e.Key, replacing what was there, atomically: a reader sees the old entry or
// the new one, never a part of either.
func (s *Store) Put(e *Entry) error {
	return s.write(tokenName(e.Key), encodeEntry(e))
}

// Delete forgets the entry for k. A missing entry is not an error.
func (s *Store) Delete(k Key) error {
	return s.remove(tokenName(k))
}

// Forget removes every cached entry whose token is token, and reports whether there was one.
// Tokens are compared in constant time.
func (s *Store) Forget(token string) (bool, error) {
	if token == "" {
		return false, nil
	}
	entries, names := s.list()
	found := false
	for i, e := range entries {
		if subtle.ConstantTimeCompare([]byte(e.Token), []byte(token)) == 1 {
			found = true
			if err := s.remove(names[i]); err != nil {
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
	var entries []Entry
	var names []string
	for _, name := range s.names() {
		if !strings.HasPrefix(name, "token-") || !strings.HasSuffix(name, ".json") {
			continue
		}
		data, ok := s.read(name, nil)
		if !ok {
			continue
		}
		if e, ok := decodeEntry(data); ok && e.Token != "" {
			entries = append(entries, *e)
			names = append(names, name)
		}
	}
	return entries, names
}

// names lists the directory, sorted; nil if it cannot be read.
func (s *Store) names() []string {
	root, err := s.dirRoot()
	if err != nil {
		return nil
	}
	d, err := root.Open(".")
	if err != nil {
		return nil
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1)
	sort.Strings(names)
	return names
}

// mapping is a cached answer of installation discovery.
type mapping struct {
	Host           string    `json:"host"`
	App            string    `json:"app"`
	Target         string    `json:"target"`
	InstallationID int64     `json:"installation_id"`
	Account        string    `json:"account,omitempty"`
	StoredAt       time.Time `json:"stored_at"`
}

// MappingTTL is how long a discovered installation is trusted before it is looked up again.
// Installations rarely move; a mint that fails for a cached mapping drops it earlier.
const MappingTTL = 7 * 24 * time.Hour

// mappingBase is the file name of target's mapping without its extension; its lock shares it.
func mappingBase(host, app, target string) string {
	return "installation-" + digest("installation/v1\x00"+strings.ToLower(host)+"\x00"+strings.ToLower(app)+"\x00"+strings.ToLower(target))
}

// Installation returns the installation id cached for target (e.g. "repo:acme/app" or
// "owner:acme") of the app on host, if one was stored within MappingTTL of now.
func (s *Store) Installation(host, app, target string, now time.Time) (int64, bool) {
	s.scratchMu.Lock()
	defer s.scratchMu.Unlock()
	data, ok := s.read(mappingBase(host, app, target)+".json", s.scratch[:])
	if !ok {
		return 0, false
	}
	m, ok := decodeMapping(data)
	if !ok || !strings.EqualFold(m.Host, host) || !strings.EqualFold(m.App, app) || !strings.EqualFold(m.Target, target) || m.InstallationID <= 0 || now.Sub(m.StoredAt) > MappingTTL || m.StoredAt.After(now.Add(time.Hour)) {
		return 0, false
	}
	return m.InstallationID, true
}

// PutInstallation caches the installation id found for target.
func (s *Store) PutInstallation(host, app, target string, id int64, now time.Time) error {
	return s.write(mappingBase(host, app, target)+".json", encodeMapping(&mapping{Host: host, App: app, Target: target, InstallationID: id, StoredAt: now.UTC()}))
}

// DropInstallation forgets the installation cached for target.
func (s *Store) DropInstallation(host, app, target string) error {
	return s.remove(mappingBase(host, app, target) + ".json")
}

type clockOffset struct {
	Host   string        `json:"host"`
	Offset time.Duration `json:"offset_ns"`
}

func clockName(host string) string {
	return "clock-" + digest("clock/v1\x00"+strings.ToLower(host)) + ".json"
}

// ClockOffset returns the offset of host's clock from ours (theirs minus ours) learned by an
// earlier process, or 0.
func (s *Store) ClockOffset(host string) time.Duration {
	data, ok := s.read(clockName(host), nil)
	if !ok {
		return 0
	}
	c, ok := decodeClock(data)
	if !ok || !strings.EqualFold(c.Host, host) {
		return 0
	}
	return c.Offset
}

// PutClockOffset remembers host's clock offset for later processes.
func (s *Store) PutClockOffset(host string, d time.Duration) error {
	return s.write(clockName(host), encodeClock(&clockOffset{Host: host, Offset: d}))
}

// write stores data as the file name atomically, with mode 0600: a temporary file in the store,
// renamed over name.
func (s *Store) write(name string, data []byte) error {
	root, err := s.dirRoot()
	if err != nil {
		return fmt.Errorf("cannot write the token cache: %w", err)
	}
	var f *os.File
	var tmp string
	for i := 0; ; i++ {
		tmp = ".tmp-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		var err error
		f, err = root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || i == 100 {
			return fmt.Errorf("cannot write the token cache: %w", err)
		}
	}
	if err := f.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		f.Close()
		root.Remove(tmp)
		return fmt.Errorf("cannot write the token cache: %w", err)
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = root.Rename(tmp, name)
	}
	if werr != nil {
		root.Remove(tmp)
		return fmt.Errorf("cannot write the token cache: %w", werr)
	}
	return nil
}

// remove deletes the file name from the store (a link itself, never what it points to). A
// missing file is not an error.
func (s *Store) remove(name string) error {
	root, err := s.dirRoot()
	if err != nil {
		return err
	}
	if err := root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
