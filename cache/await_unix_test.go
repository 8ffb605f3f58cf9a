//go:build unix

package cache

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// AwaitLock waits while a second process holds the lock (it is minting), and returns once that
// process has stored its token and released the lock; it leaves no lock file behind.
func TestAwaitLockWaitsForAnotherProcess(t *testing.T) {
	s := openTemp(t)
	k := key()
	release := holdLockUntilTold(t, s.dir)

	done := make(chan error, 1)
	go func() { done <- s.AwaitLock(context.Background(), k) }()
	// Waited grows only after a try to take the lock failed: then AwaitLock is waiting.
	for s.Waited() == 0 {
		select {
		case err := <-done:
			t.Fatalf("AwaitLock returned (%v) while another process held the lock", err)
		case <-time.After(time.Millisecond):
		}
	}
	release() // the holder stores its token, then releases the lock
	var err error
	noHang(t, "AwaitLock after the holder released", func() { err = <-done })
	if err != nil {
		t.Fatalf("AwaitLock = %v", err)
	}
	if e, ok := s.Get(k, time.Now(), 0); !ok || e.Token != "ghs_minted_meanwhile" {
		t.Fatalf("after AwaitLock the cache has %+v, %v; want the holder's token", e, ok)
	}
	if l := lockFiles(t, s.dir); len(l) != 0 {
		t.Fatalf("lock files left: %v", l)
	}
}

// A wait for a lock that a process holds and does not release ends as Lock's does: at the
// store's LockWait, which counts it.
func TestAwaitLockGivesUpAtLockWait(t *testing.T) {
	s := openTemp(t)
	holdLocks(t, s.dir) // held by a stopped process
	s.LockWait = 100 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // far beyond LockWait
	defer cancel()
	if err := s.AwaitInstallationLock(ctx, "github.com", "123", "repo:acme/app"); !errors.Is(err, ErrLockWait) {
		t.Fatalf("AwaitInstallationLock held by a stopped process = %v, want ErrLockWait", err)
	}
	if s.Waited() < s.LockWait {
		t.Fatalf("gave up after %v, before LockWait %v", s.Waited(), s.LockWait)
	}
	// ctx ends a wait too.
	s.LockWait = time.Hour
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if err := s.AwaitLock(ctx, key()); !errors.Is(err, context.Canceled) {
		t.Fatalf("AwaitLock with a done ctx = %v, want context.Canceled", err)
	}
}

// Whatever is planted at a lock's name that is not a regular file is refused at once: a link
// is not followed (its target is neither created nor locked), and a FIFO is not blocked on.
func TestAwaitLockRefusesLinksAndFIFOs(t *testing.T) {
	s := openTemp(t)
	k := key()
	lock := filepath.Join(s.dir, tokenBase(k.canonical())+".lock")
	elsewhere := t.TempDir()
	missing := filepath.Join(elsewhere, "missing")
	// A lock file another process holds, as a link's target inside and outside the cache.
	holdLocks(t, s.dir)
	held := filepath.Join(s.dir, mappingBase("github.com", "123", "repo:acme/app")+".lock")
	heldOutside := filepath.Join(elsewhere, "held.lock")
	if err := os.Link(held, heldOutside); err != nil {
		t.Fatal(err)
	}
	// A wait on a held lock would end at LockWait with ErrLockWait.
	s.LockWait = 2 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	plant := map[string]func() error{
		"link to a missing file":       func() error { return os.Symlink(missing, lock) },
		"link to a held lock":          func() error { return os.Symlink(filepath.Base(held), lock) },
		"link to a held lock outside":  func() error { return os.Symlink(heldOutside, lock) },
		"FIFO":                         func() error { return syscall.Mkfifo(lock, 0o600) },
		"directory":                    func() error { return os.Mkdir(lock, 0o700) },
		"link to a FIFO":               func() error { return symlinkToFIFO(elsewhere, lock) },
		"link to a missing file (rel)": func() error { return os.Symlink("nothing-here.lock", lock) },
	}
	for name, plant := range plant {
		t.Run(name, func(t *testing.T) {
			os.RemoveAll(lock)
			if err := plant(); err != nil {
				t.Fatal(err)
			}
			before := s.Waited()
			var err error
			noHang(t, "AwaitLock on "+name, func() { err = s.AwaitLock(ctx, k) })
			if err == nil || errors.Is(err, ErrLockWait) || errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("AwaitLock = %v, want a refusal at once", err)
			}
			if s.Waited() != before {
				t.Fatalf("waited %v on it", s.Waited()-before)
			}
			if _, err := os.Lstat(missing); err == nil {
				t.Fatal("the link's target was created")
			}
			if _, err := os.Lstat(filepath.Join(s.dir, "nothing-here.lock")); err == nil {
				t.Fatal("the link's target was created")
			}
			if fi, err := os.Lstat(lock); err != nil || fi.Mode().IsRegular() {
				t.Fatalf("what was planted was not left as it was: %v", err)
			}
		})
	}
}

func symlinkToFIFO(dir, link string) error {
	fifo := filepath.Join(dir, "fifo")
	os.Remove(fifo)
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		return err
	}
	return os.Symlink(fifo, link)
}

// holdLockUntilTold starts a second process (this test binary) that takes key()'s token lock in
// dir and holds it until release is called; it then stores a token for key() and releases the
// lock, as a minting helper does. The process is killed when the test ends.
func holdLockUntilTold(t *testing.T, dir string) (release func()) {
	t.Helper()
	_, in, r := startLockHolder(t, "TestHelperHoldLockUntilTold", "GHAPP_CACHE_TEST_HOLD_UNTIL_TOLD="+dir)
	return func() {
		in.Close()
		if line, err := r.ReadString('\n'); err != nil || line != "released\n" {
			t.Fatalf("lock holder: %q, %v", line, err)
		}
	}
}

// TestHelperHoldLockUntilTold is the second process of holdLockUntilTold; it does nothing in a
// normal run.
func TestHelperHoldLockUntilTold(t *testing.T) {
	dir := os.Getenv("GHAPP_CACHE_TEST_HOLD_UNTIL_TOLD")
	if dir == "" {
		return
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := s.Lock(context.Background(), key())
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("held\n")
	io.Copy(io.Discard, os.Stdin) // until told
	if err := s.Put(entry(key(), "ghs_minted_meanwhile", time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	unlock()
	os.Stdout.WriteString("released\n")
}
