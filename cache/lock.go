package cache

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
)

// ErrLockWait is wrapped by the error of Lock and LockInstallation when the store has spent its
// LockWait waiting for other processes: one that holds a lock may be stopped or hung, and a
// caller should then go on without the lock (minting a token of its own) rather than fail.
var ErrLockWait = errors.New("gave up waiting for another git-credential-ghapp's lock")

// Lock takes the cross-process lock for k, so that of many processes that miss the cache for the
// same scope at once, one mints and the others wait and then read its token. It waits until the
// lock is free, ctx is done or the store's LockWait is spent, and returns the function that
// releases it. The lock is released by the operating system too if the process dies while
// holding it. The error of a lock that cannot be taken (ctx, ErrLockWait, or a lock file that
// cannot be opened, such as a symbolic link planted in its place) leaves nothing held; only
// ctx's ends the request: otherwise the caller may go on without the lock.
func (s *Store) Lock(ctx context.Context, k Key) (unlock func(), err error) {
	return s.lock(ctx, tokenBase(k.canonical())+".lock")
}

// LockInstallation takes the cross-process lock for discovering the installation of target
// (as Installation names it), so that of many processes that miss the mapping at once, one asks
// GitHub. It waits like Lock. A caller that also takes a token's Lock must take this one first.
func (s *Store) LockInstallation(ctx context.Context, host, app, target string) (unlock func(), err error) {
	return s.lock(ctx, mappingBase(host, app, target)+".lock")
}

// AwaitLock waits while another process holds k's lock (it is minting that token), so that the
// caller can then look in the cache again; it never creates the lock file and holds the lock only
// for a moment. When no lock file exists nobody holds or waits for the lock, and AwaitLock
// returns nil at once, having only looked the name up. Otherwise it waits on the file as Lock
// does (the same LockWait budget, counted in Waited, and the same ctx), then releases it at once
// and leaves the file where it is: only a holder removes a lock file. Its errors are those of
// Lock. A nil error says only that nobody held the lock at some moment since the call: it does
// not keep anyone from taking it next, so a caller that must mint takes Lock.
func (s *Store) AwaitLock(ctx context.Context, k Key) error {
	return s.await(ctx, tokenBase(k.canonical())+".lock")
}

// AwaitInstallationLock waits, like AwaitLock, while another process holds the lock for
// discovering the installation of target (LockInstallation's lock).
func (s *Store) AwaitInstallationLock(ctx context.Context, host, app, target string) error {
	return s.await(ctx, mappingBase(host, app, target)+".lock")
}

// await waits until nobody holds the lock file name, without creating it.
func (s *Store) await(ctx context.Context, name string) error {
	for range 100 {
		f, err := s.openExistingLock(name)
		if errors.Is(err, errLockChanged) {
			continue
		}
		if err != nil || f == nil {
			return err
		}
		err = s.wait(ctx, f, name)
		if err == nil {
			// Taken for a moment, whether or not name still leads to f: a holder that removed
			// f released it, so the one this wait was for is done.
			unlockFile(f)
		}
		f.Close()
		return err
	}
	return fmt.Errorf("cannot wait for the cache lock (%s keeps changing)", name)
}

// errLockChanged says the lock file was replaced between openExistingLock's checks.
var errLockChanged = errors.New("the lock file changed")

// openExistingLock opens the lock file name if it exists, for await; nil when it does not. Like
// openLock it refuses anything but a regular file of ours, and follows no link: the file it opens
// must be the one the name itself leads to.
func (s *Store) openExistingLock(name string) (*os.File, error) {
	if s.reads.missing(name) {
		return nil, nil // the usual case, decided without the store's os.Root
	}
	root, err := s.dirRoot()
	if err != nil {
		return nil, fmt.Errorf("cannot open the cache lock: %w", err)
	}
	byName, err := root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err == nil && !byName.Mode().IsRegular() {
		return nil, fmt.Errorf("cannot use the cache lock %s: it is not a regular file (remove it)", name)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open the cache lock: %w", err)
	}
	f, err := root.OpenFile(name, os.O_RDWR|openFlags, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // its holder removed it since the Lstat: released
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open the cache lock: %w", err)
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || !ownedByMe(fi) {
		f.Close()
		return nil, fmt.Errorf("cannot use the cache lock %s: it is not a regular file of ours (remove it)", name)
	}
	if !os.SameFile(byName, fi) {
		// Replaced since the Lstat: by a link (followed by the open), or by the next holder's
		// new file. Look again.
		f.Close()
		return nil, errLockChanged
	}
	return f, nil
}

// lock takes the lock file name. A lock file exists only while someone holds or waits for it:
// its holder removes it before releasing it (where the platform lets a file that others have
// open be removed), so lock files do not pile up. Removing a file others wait on is safe because
// every process that gets the lock checks that the name still leads to the file it locked, and
// starts over with a new file when it does not. A process in AwaitLock opens only a file that
// exists, and never removes one: it changes nothing of this.
func (s *Store) lock(ctx context.Context, name string) (unlock func(), err error) {
	h, err := s.hold(ctx, name)
	if err != nil {
		return nil, err
	}
	return h.Release, nil
}

// hold is lock, returning the lock as a Held.
func (s *Store) hold(ctx context.Context, name string) (*Held, error) {
	if f := s.claimAdopted(name); f != nil {
		return &Held{s: s, name: name, f: f}, nil
	}
	for range 100 {
		f, err := s.openLock(name)
		if err != nil {
			return nil, err
		}
		if err := s.wait(ctx, f, name); err != nil {
			f.Close()
			return nil, err
		}
		if s.current(name, f) {
			return &Held{s: s, name: name, f: f}, nil
		}
		// The holder before us removed the file while we waited on it: try the new one.
		unlockFile(f)
		f.Close()
	}
	return nil, fmt.Errorf("cannot lock the token cache (%s keeps changing)", name)
}

// A Held is a cache lock this process holds, taken with Hold or HoldInstallation: Lock and
// LockInstallation for a process that may hand the lock on to the program it replaces itself
// with (exec), which takes it over with Adopt.
type Held struct {
	s    *Store
	name string
	f    *os.File
}

// Hold takes k's lock as Lock does, and returns it as a Held.
func (s *Store) Hold(ctx context.Context, k Key) (*Held, error) {
	return s.hold(ctx, tokenBase(k.canonical())+".lock")
}

// HoldInstallation takes the installation lock of target as LockInstallation does, and returns
// it as a Held.
func (s *Store) HoldInstallation(ctx context.Context, host, app, target string) (*Held, error) {
	return s.hold(ctx, mappingBase(host, app, target)+".lock")
}

// Release releases the lock, as the function Lock returns does.
func (h *Held) Release() { h.s.release(h.name, h.f) }

// File returns the open lock file. On Unix the lock belongs to the open file, not to the
// process: a descriptor of it that survives exec (close-on-exec cleared) hands the lock to the
// new program, which gives it to Adopt. The caller must not close it.
func (h *Held) File() *os.File { return h.f }

// Adopt takes over a cache lock that this process was handed when it was started: f is the lock
// file of a Held of the process it replaced (exec), still locked. The store's first Lock or
// LockInstallation call returns it at once when it asks for that very lock file; a call for any
// other lock releases it first, so that locks are still taken in their order (an installation's
// before a token's) and none is held longer than needed. f must be a regular file of this user;
// anything else is refused, and left open.
func (s *Store) Adopt(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("cannot use the cache lock handed over: %w", err)
	}
	if !fi.Mode().IsRegular() || !ownedByMe(fi) {
		return errors.New("cannot use the cache lock handed over: it is not a regular file of ours")
	}
	s.mu.Lock()
	old := s.adopted
	s.adopted = f
	s.mu.Unlock()
	if old != nil {
		unlockFile(old)
		old.Close()
	}
	return nil
}

// claimAdopted returns the lock Adopt took over when it is name's lock file and this process
// holds it, and clears it from the store; otherwise it releases the adopted lock (its file is
// left for sweepLocks, as its name is not known) and returns nil.
func (s *Store) claimAdopted(name string) *os.File {
	s.mu.Lock()
	f := s.adopted
	s.adopted = nil
	s.mu.Unlock()
	if f == nil {
		return nil
	}
	if s.sameFile(name, f) {
		// Taking a lock its own open file already holds succeeds at once.
		if locked, err := tryLock(f); err == nil && locked {
			return f
		}
	}
	unlockFile(f)
	f.Close()
	return nil
}

// openLock opens (creating it if needed) the lock file name, which must be a regular file: a
// link or anything else planted in its place is refused, and nothing it points to is touched.
func (s *Store) openLock(name string) (*os.File, error) {
	root, err := s.dirRoot()
	if err != nil {
		return nil, fmt.Errorf("cannot open the cache lock: %w", err)
	}
	if fi, err := root.Lstat(name); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("cannot use the cache lock %s: it is not a regular file (remove it)", name)
	}
	// os.Root never follows a link out of the directory, and opens with O_NOFOLLOW; a link that
	// stays inside is caught by the checks below and by current.
	f, err := root.OpenFile(name, os.O_RDWR|os.O_CREATE|openFlags, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot open the cache lock: %w", err)
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() || !ownedByMe(fi) {
		f.Close()
		return nil, fmt.Errorf("cannot use the cache lock %s: it is not a regular file of ours (remove it)", name)
	}
	return f, nil
}

// wait takes the lock on f, waiting until it is free, ctx is done or the store's LockWait is
// spent.
func (s *Store) wait(ctx context.Context, f *os.File, name string) error {
	// Poll with a short, growing interval: a waiter learns of the release within a few
	// milliseconds, and polling works the same on every platform and honours ctx.
	interval := time.Millisecond
	for {
		locked, err := tryLock(f)
		if err != nil {
			return fmt.Errorf("cannot lock the token cache: %w", err)
		}
		if locked {
			return nil
		}
		s.mu.Lock()
		left := s.LockWait - s.waited
		s.mu.Unlock()
		if left <= 0 {
			return fmt.Errorf("%w %s after %s in all (is that process stopped?)", ErrLockWait, name, s.LockWait)
		}
		start := time.Now()
		t := time.NewTimer(min(interval, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("gave up waiting for another git-credential-ghapp to mint a token (%s): %w", name, ctx.Err())
		case <-t.C:
		}
		s.mu.Lock()
		s.waited += time.Since(start)
		s.mu.Unlock()
		if interval < 4*time.Millisecond { // at most 8 ms: a waiter's git is waiting too
			interval *= 2
		}
	}
}

// Waited returns the time the store's Lock, LockInstallation, AwaitLock and
// AwaitInstallationLock calls have spent waiting for other processes so far, all calls together.
func (s *Store) Waited() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waited
}

// current reports whether name still leads to the file f, that is, no holder before us removed
// or replaced it while we waited.
func (s *Store) current(name string, f *os.File) bool {
	if !removeLocks {
		return true // the files are never removed
	}
	return s.sameFile(name, f)
}

// sameFile reports whether name, in the store's directory, is the file f.
func (s *Store) sameFile(name string, f *os.File) bool {
	root, err := s.dirRoot()
	if err != nil {
		return false
	}
	byName, err := root.Lstat(name)
	if err != nil {
		return false
	}
	byFile, err := f.Stat()
	return err == nil && os.SameFile(byName, byFile)
}

// release removes the lock file while it is still held (so that a process waiting on it starts
// over), then releases it, and then removes lock files that earlier processes left behind.
func (s *Store) release(name string, f *os.File) {
	if removeLocks && s.current(name, f) {
		if root, err := s.dirRoot(); err == nil {
			_ = root.Remove(name)
		}
	}
	unlockFile(f)
	f.Close()
	if removeLocks {
		s.sweepLocks()
	}
}

// sweepLocks removes the lock files that nobody holds: left by a process that was killed while
// holding one, or by a version that kept them. It takes each lock without waiting and removes
// the file only while holding it, as release does, so it never removes a lock in use.
func (s *Store) sweepLocks() {
	root, err := s.dirRoot()
	if err != nil {
		return
	}
	for _, name := range s.names() {
		if !strings.HasSuffix(name, ".lock") {
			continue
		}
		fi, err := root.Lstat(name)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		f, err := root.OpenFile(name, os.O_RDWR|openFlags, 0)
		if err != nil {
			continue
		}
		if locked, err := tryLock(f); err == nil && locked {
			if s.current(name, f) {
				_ = root.Remove(name)
			}
			unlockFile(f)
		}
		f.Close()
	}
}
