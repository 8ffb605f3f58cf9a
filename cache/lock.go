package cache

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Lock takes the cross-process lock for k, so that of many processes that miss the cache for the
// same scope at once, one mints and the others wait and then read its token. It waits until the
// lock is free or ctx is done, and returns the function that releases it. The lock is released
// by the operating system too if the process dies while holding it.
func (s *Store) Lock(ctx context.Context, k Key) (unlock func(), err error) {
	return s.lock(ctx, filepath.Join(s.dir, "token-"+k.ID()+".lock"))
}

// LockInstallation takes the cross-process lock for discovering the installation of target
// (as Installation names it), so that of many processes that miss the mapping at once, one asks
// GitHub. It waits like Lock. A caller that also takes a token's Lock must take this one first.
func (s *Store) LockInstallation(ctx context.Context, host, app, target string) (unlock func(), err error) {
	return s.lock(ctx, strings.TrimSuffix(s.mappingPath(host, app, target), ".json")+".lock")
}

func (s *Store) lock(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot open the cache lock: %w", err)
	}
	// Poll with a short, growing interval: a waiter learns of the release within a few
	// milliseconds, and polling works the same on every platform and honours ctx.
	wait := time.Millisecond
	for {
		locked, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("cannot lock the token cache: %w", err)
		}
		if locked {
			return func() {
				unlockFile(f)
				f.Close()
			}, nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, fmt.Errorf("gave up waiting for another git-credential-ghapp to mint a token (%s): %w", path, ctx.Err())
		case <-t.C:
		}
		if wait < 4*time.Millisecond { // at most 8 ms: a waiter's git is waiting too
			wait *= 2
		}
	}
}
