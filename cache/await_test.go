package cache

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// dirNames lists dir's entries.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// A wait for a lock that nobody holds or waits for (no lock file) returns at once and touches
// nothing: it creates no lock file, so it neither takes the lock nor sweeps others' leftovers,
// and the cache directory is not written at all.
func TestAwaitLockWithoutLockFileTouchesNothing(t *testing.T) {
	s := openTemp(t)
	k := key()
	// A leftover lock of another scope, which taking any lock would sweep away.
	leftover := filepath.Join(s.dir, "token-"+digest("leftover")+".lock")
	if err := os.WriteFile(leftover, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// Any file created or removed in the directory sets its modification time to now.
	past := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(s.dir, past, past); err != nil {
		t.Fatal(err)
	}
	before := dirNames(t, s.dir)

	// A done ctx: a wait of any length would fail with its error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.AwaitLock(ctx, k); err != nil {
		t.Fatalf("AwaitLock with no lock file = %v, want nil at once", err)
	}
	if err := s.AwaitInstallationLock(ctx, "github.com", "123", "repo:acme/app"); err != nil {
		t.Fatalf("AwaitInstallationLock with no lock file = %v, want nil at once", err)
	}
	if after := dirNames(t, s.dir); !slices.Equal(before, after) {
		t.Fatalf("the cache directory held %v, and after the waits %v", before, after)
	}
	if fi, err := os.Stat(s.dir); err != nil || !fi.ModTime().Equal(past) {
		t.Fatalf("the cache directory was written (modified %v, was %v): a file was created or removed", fi.ModTime(), past)
	}
	if s.Waited() != 0 {
		t.Fatalf("waited %v", s.Waited())
	}
}

// A lock file that nobody holds (left by a killed process, or kept, as on Windows) is waited on
// for no time, and left where it is: only a holder removes a lock file.
func TestAwaitLockOnAFreeLockFile(t *testing.T) {
	s := openTemp(t)
	k := key()
	name := filepath.Join(s.dir, tokenBase(k.canonical())+".lock")
	if err := os.WriteFile(name, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.AwaitLock(context.Background(), k); err != nil {
		t.Fatalf("AwaitLock on a free lock file = %v", err)
	}
	if _, err := os.Lstat(name); err != nil {
		t.Fatalf("the lock file was removed: %v", err)
	}
	// And it is free again: taking it succeeds at once.
	s.LockWait = 0
	unlock, err := s.Lock(context.Background(), k)
	if err != nil {
		t.Fatalf("Lock after AwaitLock = %v: the wait kept the lock", err)
	}
	unlock()
}
