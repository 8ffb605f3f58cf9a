//go:build unix

package cache

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The cache on a shared machine (issue 9, items 6-10), with real FIFOs, sockets, links and a
// real second process holding a real flock.

// noHang runs f and fails the test if it has not returned within a minute: f is expected to
// return at once, and without the fix it blocks forever.
func noHang(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("%s blocked", what)
	}
}

func TestNonRegularFilesAreMissesWithoutBlocking(t *testing.T) {
	s := openTemp(t)
	k := key()
	s.Put(entry(k, "ghs_abc", now.Add(time.Hour)))
	s.PutInstallation("github.com", "123", "repo:acme/app", 42, now)
	s.PutClockOffset("github.com", time.Minute)
	paths := []string{
		s.tokenPath(k),
		filepath.Join(s.dir, mappingBase("github.com", "123", "repo:acme/app")+".json"),
		filepath.Join(s.dir, clockName("github.com")),
	}
	read := func() (hits int) {
		if _, ok := s.Get(k, now, 0); ok {
			hits++
		}
		if _, ok := s.Installation("github.com", "123", "repo:acme/app", now); ok {
			hits++
		}
		if s.ClockOffset("github.com") != 0 {
			hits++
		}
		hits += len(s.List())
		if found, _ := s.Forget("ghs_abc"); found {
			hits++
		}
		return hits
	}

	t.Run("FIFO", func(t *testing.T) {
		for _, p := range paths {
			os.Remove(p)
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		var hits int
		noHang(t, "reading a FIFO in the cache", func() { hits = read() })
		if hits != 0 {
			t.Fatalf("%d hits on FIFOs", hits)
		}
		// A new write replaces the FIFO.
		if err := s.Put(entry(k, "ghs_new", now.Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
		if e, ok := s.Get(k, now, 0); !ok || e.Token != "ghs_new" {
			t.Fatalf("Get after Put = %+v, %v", e, ok)
		}
	})

	t.Run("socket", func(t *testing.T) {
		// A socket's path is limited to about 100 bytes: make it under a short name, then
		// move it into the cache.
		short, err := os.MkdirTemp("", "s")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(short)
		for i, p := range paths {
			os.Remove(p)
			sock := filepath.Join(short, string(rune('a'+i)))
			l, err := net.Listen("unix", sock)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if err := os.Rename(sock, p); err != nil {
				t.Fatal(err)
			}
		}
		var hits int
		noHang(t, "reading a socket in the cache", func() { hits = read() })
		if hits != 0 {
			t.Fatalf("%d hits on sockets", hits)
		}
	})
}

func TestLockRefusesLinks(t *testing.T) {
	s := openTemp(t)
	k := key()
	elsewhere := t.TempDir()
	outside := filepath.Join(elsewhere, "target")
	existing := filepath.Join(elsewhere, "existing")
	os.WriteFile(existing, []byte("keep"), 0o600)
	inside := s.tokenPath(k)
	s.Put(entry(k, "ghs_abc", now.Add(time.Hour)))
	before, _ := os.ReadFile(inside)

	for name, target := range map[string]string{"to a missing file outside": outside, "to a file outside": existing, "to a cache file": inside} {
		t.Run(name, func(t *testing.T) {
			lock := filepath.Join(s.dir, tokenBase(k.canonical())+".lock")
			os.Remove(lock)
			if err := os.Symlink(target, lock); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			unlock, err := s.Lock(ctx, k)
			if err == nil {
				unlock()
				t.Fatal("a link was used as a lock file")
			}
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrLockWait) {
				t.Fatalf("Lock = %v, want a refusal at once", err)
			}
			if _, err := os.Lstat(outside); err == nil {
				t.Fatal("the link's target was created")
			}
			if data, _ := os.ReadFile(existing); string(data) != "keep" {
				t.Fatal("the link's target was changed")
			}
			if data, _ := os.ReadFile(inside); string(data) != string(before) {
				t.Fatal("the cache file the link points to was changed")
			}
			if fi, err := os.Lstat(lock); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Fatalf("the planted link was not left as it was: %v", err)
			}
		})
	}
}

// holdLocks starts a second process (this test binary) that takes the token lock and the
// discovery lock of key() in dir and holds them, stopped with SIGSTOP as a suspended job would
// be. The process is killed when the test ends.
func holdLocks(t *testing.T, dir string) {
	t.Helper()
	cmd, _, _ := startLockHolder(t, "TestHelperHoldLocks", "GHAPP_CACHE_TEST_HOLD="+dir)
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
}

// startLockHolder starts this test binary again to run test, a helper process told what to do
// by env, and waits until it says it holds its locks ("held"); it is killed when the test ends.
// It returns the process, its stdin and the rest of what it says.
func startLockHolder(t *testing.T, test, env string) (*exec.Cmd, io.WriteCloser, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$")
	cmd.Env = append(os.Environ(), env)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	r := bufio.NewReader(out)
	if line, err := r.ReadString('\n'); err != nil || line != "held\n" {
		t.Fatalf("lock holder: %q, %v", line, err)
	}
	return cmd, in, r
}

// TestHelperHoldLocks is the second process of holdLocks; it does nothing in a normal run.
func TestHelperHoldLocks(t *testing.T) {
	dir := os.Getenv("GHAPP_CACHE_TEST_HOLD")
	if dir == "" {
		return
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.LockInstallation(context.Background(), "github.com", "123", "repo:acme/app"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lock(context.Background(), key()); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("held\n")
	select {} // until killed
}

func TestLockWaitIsCappedForAllLocksTogether(t *testing.T) {
	s := openTemp(t)
	holdLocks(t, s.dir)
	s.LockWait = 200 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // far beyond the cap
	defer cancel()

	_, err := s.LockInstallation(ctx, "github.com", "123", "repo:acme/app")
	if !errors.Is(err, ErrLockWait) {
		t.Fatalf("LockInstallation held by a stopped process = %v, want ErrLockWait", err)
	}
	if s.waited < s.LockWait {
		t.Fatalf("gave up after %v, before the cap of %v", s.waited, s.LockWait)
	}
	spent := s.waited
	// The second lock of the same get does not wait again: the cap is for all locks together.
	if _, err := s.Lock(ctx, key()); !errors.Is(err, ErrLockWait) {
		t.Fatalf("Lock after the cap was spent = %v, want ErrLockWait", err)
	}
	if s.waited != spent {
		t.Fatalf("the second lock waited %v more", s.waited-spent)
	}
	// A lock nobody holds is still taken at once.
	other := key()
	other.Repositories = []string{"other"}
	unlock, err := s.Lock(ctx, other)
	if err != nil {
		t.Fatalf("a free lock after the cap: %v", err)
	}
	unlock()
}

func TestDefaultLockWait(t *testing.T) {
	s := openTemp(t)
	if s.LockWait != DefaultLockWait || DefaultLockWait != 10*time.Second {
		t.Fatalf("LockWait = %v, DefaultLockWait = %v; want 10s", s.LockWait, DefaultLockWait)
	}
}

func lockFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.lock"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestLockFilesDoNotPileUp(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	for i := range 25 {
		k := key()
		k.InstallationID = int64(i + 1)
		ui, err := s.LockInstallation(ctx, "github.com", "123", "repo:acme/app"+string(rune('a'+i)))
		if err != nil {
			t.Fatal(err)
		}
		u, err := s.Lock(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		s.Put(entry(k, "ghs_abc", now.Add(time.Hour)))
		u()
		ui()
	}
	if l := lockFiles(t, s.dir); len(l) != 0 {
		t.Fatalf("%d lock files left after 25 mints, such as %s", len(l), filepath.Base(l[0]))
	}
}

func TestLeftoverLockFilesAreSwept(t *testing.T) {
	s := openTemp(t)
	holdLocks(t, s.dir) // two lock files in use, by a stopped process
	inUse := lockFiles(t, s.dir)
	if len(inUse) != 2 {
		t.Fatalf("lock files of the holder: %v", inUse)
	}
	for i := range 25 { // left by killed processes or by earlier versions
		os.WriteFile(filepath.Join(s.dir, "token-"+digest(string(rune('a'+i)))+".lock"), nil, 0o600)
	}
	k := key()
	k.Repositories = []string{"other"}
	u, err := s.Lock(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	u()
	if l := lockFiles(t, s.dir); strings.Join(l, " ") != strings.Join(inUse, " ") {
		t.Fatalf("lock files after a release: %v, want only those in use: %v", l, inUse)
	}
}

// TestRemovedLockIsNotShared is the classic bug of removing lock files: a process that waited
// on a file its holder then removed must not take that old file as the lock while a newcomer
// holds the new one.
func TestRemovedLockIsNotShared(t *testing.T) {
	dir := filepath.Join(t.TempDir(), DirName)
	holder, _ := Open(dir)
	waiter, _ := Open(dir)
	newcomer, _ := Open(dir)
	k := key()
	name := tokenBase(k.canonical()) + ".lock"
	ctx := context.Background()

	release, err := holder.Lock(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	old, err := waiter.openLock(name) // the waiter has the file open and is about to wait on it
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	release() // removes the file, then unlocks it
	u, err := newcomer.Lock(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	defer u()
	// The waiter's flock on the old file now succeeds, but it is not the lock any more.
	if err := waiter.wait(ctx, old, name); err != nil {
		t.Fatal(err)
	}
	if waiter.current(name, old) {
		t.Fatal("a removed lock file was taken for the lock")
	}
	unlockFile(old)
	// Through Lock, the waiter starts over on the new file, which the newcomer holds.
	waiter.LockWait = 100 * time.Millisecond
	if _, err := waiter.Lock(ctx, k); !errors.Is(err, ErrLockWait) {
		t.Fatalf("Lock while the newcomer holds it = %v, want ErrLockWait", err)
	}
}

// TestStoreKeepsItsDirectory: once open, the store works in the directory it opened, even when
// someone who can write a parent renames it away and puts another directory in its place, and
// whether or not the store wrote before the swap (on Linux its os.Root is opened at the first
// write, lock or listing).
func TestStoreKeepsItsDirectory(t *testing.T) {
	for _, writeFirst := range []bool{true, false} {
		t.Run(map[bool]string{true: "written before the swap", false: "first write after it"}[writeFirst], func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), DirName)
			s, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			k := key()
			if writeFirst {
				s.Put(entry(k, "ghs_before", now.Add(time.Hour)))
			}
			moved := swapDir(t, dir)
			planted := &Entry{Key: k, Token: "ghs_planted", ExpiresAt: now.Add(time.Hour)}
			os.WriteFile(filepath.Join(dir, tokenName(k)), encodeEntry(planted), 0o600)

			if e, ok := s.Get(k, now, 0); writeFirst && (!ok || e.Token != "ghs_before") || !writeFirst && ok {
				t.Fatalf("Get after the swap = %+v, %v; want what the opened directory holds", e, ok)
			}
			if err := s.Put(entry(k, "ghs_after", now.Add(time.Hour))); err != nil {
				t.Fatal(err)
			}
			if data, _ := os.ReadFile(filepath.Join(dir, tokenName(k))); strings.Contains(string(data), "ghs_after") {
				t.Fatal("a token was written into the directory swapped in")
			}
			if data, _ := os.ReadFile(filepath.Join(moved, tokenName(k))); !strings.Contains(string(data), "ghs_after") {
				t.Fatal("the token did not go to the opened directory")
			}
		})
	}
}

// swapDir renames dir to "moved" beside it and puts an impostor directory in its place, as
// someone who can write its parent could; it returns where dir went.
func swapDir(t *testing.T, dir string) (moved string) {
	t.Helper()
	moved = filepath.Join(filepath.Dir(dir), "moved")
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil { // the impostor
		t.Fatal(err)
	}
	return moved
}

// TestCachedGetOpensNoRoot: on Linux a cached get reads through the plain descriptor alone; the
// os.Root (and the os.File machinery behind it) waits for a write, a lock or a listing.
func TestCachedGetOpensNoRoot(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the os.Root is opened lazily on Linux only")
	}
	s, err := Open(filepath.Join(t.TempDir(), DirName))
	if err != nil {
		t.Fatal(err)
	}
	k := key()
	if err := s.Put(entry(k, "ghs_x", now.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if e, ok := s.Get(k, now, 0); !ok || e.Token != "ghs_x" {
		t.Fatalf("Get = %+v, %v", e, ok)
	}
	if s.root != nil {
		t.Fatal("a cached get opened the store's os.Root")
	}
}
