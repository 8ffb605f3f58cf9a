//go:build unix

package cache

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"
)

// inherited returns a new descriptor of h's open lock file, as a process that h's holder
// replaced with exec would have it: the same open file, so the same lock.
func inherited(t *testing.T, h *Held) *os.File {
	t.Helper()
	fd, err := syscall.Dup(int(h.File().Fd()))
	if err != nil {
		t.Fatal(err)
	}
	return os.NewFile(uintptr(fd), "inherited")
}

// lockFreeNow takes and releases k's lock in a store of its own, failing the test if anyone
// holds it.
func lockFreeNow(t *testing.T, dir string, k Key) {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.LockWait = 0
	unlock, err := s.Lock(context.Background(), k)
	if err != nil {
		t.Fatalf("the lock is still held: %v", err)
	}
	unlock()
}

// A lock handed over is the lock: the store that adopts it takes it without waiting, others
// cannot take it meanwhile, and its release frees it and removes its file.
func TestAdoptedLockIsTakenAtOnce(t *testing.T) {
	front := openTemp(t)
	ctx := context.Background()
	k := key()
	h, err := front.Hold(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	full, err := Open(front.dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := full.Adopt(inherited(t, h)); err != nil {
		t.Fatal(err)
	}
	// witness is one more descriptor of the same open file, kept to tell which lock full holds.
	witness := inherited(t, h)
	defer witness.Close()
	h.File().Close() // the front is gone: only the inherited descriptors hold the lock now

	other, err := Open(front.dir)
	if err != nil {
		t.Fatal(err)
	}
	other.LockWait = 50 * time.Millisecond
	if _, err := other.Lock(ctx, k); !errors.Is(err, ErrLockWait) {
		t.Fatalf("another store took the handed-over lock: %v", err)
	}
	full.LockWait = 0 // no waiting: the lock is its own
	unlock, err := full.Lock(ctx, k)
	if err != nil {
		t.Fatalf("the adopting store could not take its own lock: %v", err)
	}
	if full.Waited() != 0 {
		t.Fatalf("waited %v for a lock it held", full.Waited())
	}
	// The lock full holds is the open file handed over, not one taken anew after letting it go
	// (which another process could have taken in between): its lock is the witness's.
	if ok, err := tryLock(witness); err != nil || !ok {
		t.Fatalf("the handed-over lock was released and taken anew (%v, %v)", ok, err)
	}
	unlock()
	if l := lockFiles(t, front.dir); len(l) != 0 {
		t.Fatalf("lock files left after release: %v", l)
	}
	lockFreeNow(t, front.dir, k)
}

// A store that asks for another lock first releases the adopted one (it may not hold a token's
// lock while it waits for an installation's), and an adopted lock nobody asks for is released
// by Close.
func TestAdoptedLockNotAskedForIsReleased(t *testing.T) {
	ctx := context.Background()
	k := key()
	for name, use := range map[string]func(*testing.T, *Store) error{
		"another lock": func(t *testing.T, s *Store) error {
			unlock, err := s.LockInstallation(ctx, "github.com", "123", "repo:acme/app")
			if err == nil {
				lockFreeNow(t, s.dir, k) // released before the other was taken
				unlock()
			}
			return err
		},
		"close": func(_ *testing.T, s *Store) error { return s.Close() },
	} {
		t.Run(name, func(t *testing.T) {
			front := openTemp(t)
			h, err := front.Hold(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			full, err := Open(front.dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := full.Adopt(inherited(t, h)); err != nil {
				t.Fatal(err)
			}
			h.File().Close()
			if err := use(t, full); err != nil {
				t.Fatal(err)
			}
			lockFreeNow(t, front.dir, k)
		})
	}
}

// Only a regular file of this user is adopted; anything else is refused and left open (it is
// not the store's to close).
func TestAdoptRefusesWhatIsNoLock(t *testing.T) {
	s := openTemp(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if err := s.Adopt(r); err == nil {
		t.Fatal("adopted a pipe")
	}
	if _, err := w.Write([]byte("x")); err != nil {
		t.Fatalf("the refused pipe was closed: %v", err)
	}
	// A regular file that is not the lock asked for is no lock: Lock takes the real one.
	f, err := os.CreateTemp(t.TempDir(), "notalock")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Adopt(f); err != nil {
		t.Fatal(err)
	}
	unlock, err := s.Lock(context.Background(), key())
	if err != nil {
		t.Fatal(err)
	}
	if l := lockFiles(t, s.dir); len(l) != 1 {
		t.Fatalf("lock files while held: %v; want the key's own", l)
	}
	unlock()
}
