package cache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), DirName))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tokenPath is where the entry for k lives, for tests that plant files.
func (s *Store) tokenPath(k Key) string { return filepath.Join(s.dir, tokenName(k)) }

func key() Key {
	return Key{Host: "github.com", App: "123", InstallationID: 42, Repositories: []string{"App"}, Permissions: map[string]string{"contents": "read"}}
}

func entry(k Key, token string, expires time.Time) *Entry {
	return &Entry{Key: k, Token: token, ExpiresAt: expires, CreatedAt: now}
}

func TestOpenCreatesPrivateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b", DirName)
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o700 {
		t.Fatalf("mode %o, want 700", fi.Mode().Perm())
	}
}

func TestOpenRefusesUnsafeDirs(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("mode bits and owners are Unix concepts")
	}
	base := t.TempDir()
	open := filepath.Join(base, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chmod(open, 0o755)
	file := filepath.Join(base, "file")
	os.WriteFile(file, nil, 0o600)
	link := filepath.Join(base, "link")
	private := filepath.Join(base, "private")
	os.Mkdir(private, 0o700)
	os.Symlink(private, link)

	for name, dir := range map[string]string{"group/world bits": open, "a file": file, "a symlink": link} {
		_, err := Open(dir)
		var ie *InsecureDirError
		if !errors.As(err, &ie) {
			t.Errorf("%s: Open = %v, want *InsecureDirError", name, err)
		}
	}
	_, err := Open(open)
	if err == nil || !strings.Contains(err.Error(), "chmod 700") {
		t.Errorf("the message should say how to fix it: %v", err)
	}

	t.Run("foreign owner", func(t *testing.T) {
		defer func(f func() int) { currentUID = f }(currentUID)
		currentUID = func() int { return os.Getuid() + 1 }
		_, err := Open(private)
		var ie *InsecureDirError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), "another user") {
			t.Fatalf("Open = %v, want a foreign-owner refusal", err)
		}
	})
}

func TestPutGetRoundTrip(t *testing.T) {
	s := openTemp(t)
	k := key()
	if _, ok := s.Get(k, now, 10*time.Minute); ok {
		t.Fatal("empty cache hit")
	}
	want := entry(k, "ghs_abc", now.Add(time.Hour))
	want.Permissions = map[string]string{"contents": "read", "metadata": "read"}
	if err := s.Put(want); err != nil {
		t.Fatal(err)
	}
	got, ok := s.Get(k, now, 10*time.Minute)
	if !ok || got.Token != "ghs_abc" || !got.ExpiresAt.Equal(want.ExpiresAt) || got.Permissions["metadata"] != "read" {
		t.Fatalf("Get = %+v, %v", got, ok)
	}
	if runtime.GOOS != "windows" {
		fi, _ := os.Stat(s.tokenPath(k))
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("file mode %o, want 600", fi.Mode().Perm())
		}
	}
	// Same scope written differently is the same key.
	same := Key{Host: "GitHub.com", App: "123", InstallationID: 42, Repositories: []string{"app"}, Permissions: map[string]string{"Contents": "READ"}}
	if _, ok := s.Get(same, now, 10*time.Minute); !ok {
		t.Fatal("case differences should not change the scope")
	}
}

func TestGetRespectsMinimumLifetime(t *testing.T) {
	s := openTemp(t)
	k := key()
	s.Put(entry(k, "ghs_abc", now.Add(11*time.Minute)))
	if _, ok := s.Get(k, now, 10*time.Minute); !ok {
		t.Fatal("11 minutes left should be a hit with a 10 minute margin")
	}
	if _, ok := s.Get(k, now.Add(2*time.Minute), 10*time.Minute); ok {
		t.Fatal("9 minutes left should be a miss with a 10 minute margin")
	}
	if _, ok := s.Get(k, now.Add(2*time.Minute), time.Minute); !ok {
		t.Fatal("the margin is configurable")
	}
}

func TestNoTokenForAnotherScope(t *testing.T) {
	s := openTemp(t)
	k := key()
	s.Put(entry(k, "ghs_abc", now.Add(time.Hour)))
	others := map[string]Key{}
	o := key()
	o.Host = "ghe.example.com"
	others["host"] = o
	o = key()
	o.App = "124"
	others["app"] = o
	o = key()
	o.InstallationID = 43
	others["installation"] = o
	o = key()
	o.Repositories = []string{"app", "other"}
	others["repositories"] = o
	o = key()
	o.Repositories = nil
	others["all repositories"] = o
	o = key()
	o.Permissions = map[string]string{"contents": "write"}
	others["permission level"] = o
	o = key()
	o.Permissions = nil
	others["installation permissions"] = o
	for name, k2 := range others {
		if _, ok := s.Get(k2, now, 0); ok {
			t.Errorf("%s: a token of one scope was handed out for another", name)
		}
	}

	// An entry copied under another scope's file name is refused, because the stored key must match.
	data, _ := os.ReadFile(s.tokenPath(k))
	os.WriteFile(s.tokenPath(others["repositories"]), data, 0o600)
	if _, ok := s.Get(others["repositories"], now, 0); ok {
		t.Error("an entry whose stored key differs from its file name was handed out")
	}
}

// TestPlantedCollisionIsAMiss holds up what lets file names use a non-cryptographic hash: a
// file found under the name of what is looked for, but written for something else (as a forged
// hash collision would place it), is a miss, for every kind of file.
func TestPlantedCollisionIsAMiss(t *testing.T) {
	s := openTemp(t)
	plant := func(from, to string) {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(s.dir, from))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(s.dir, to), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	k := key()
	s.Put(entry(k, "ghs_abc", now.Add(time.Hour)))
	for _, other := range []Key{
		{Host: "ghe.example.com", App: k.App, InstallationID: k.InstallationID, Repositories: k.Repositories, Permissions: k.Permissions},
		{Host: k.Host, App: "124", InstallationID: k.InstallationID, Repositories: k.Repositories, Permissions: k.Permissions},
		{Host: k.Host, App: k.App, InstallationID: 43, Repositories: k.Repositories, Permissions: k.Permissions},
		{Host: k.Host, App: k.App, InstallationID: k.InstallationID, Repositories: []string{"lib"}, Permissions: k.Permissions},
		{Host: k.Host, App: k.App, InstallationID: k.InstallationID, Permissions: k.Permissions},
		{Host: k.Host, App: k.App, InstallationID: k.InstallationID, Repositories: k.Repositories},
	} {
		plant(tokenName(k), tokenName(other))
		if e, ok := s.Get(other, now, 0); ok {
			t.Errorf("token of %+v handed out for %+v", e.Key, other)
		}
	}

	s.PutInstallation("github.com", "123", "repo:acme/app", 42, now)
	for _, other := range [][3]string{
		{"ghe.example.com", "123", "repo:acme/app"},
		{"github.com", "124", "repo:acme/app"},
		{"github.com", "123", "repo:acme/lib"},
		{"github.com", "123", "owner:acme"},
	} {
		plant(mappingBase("github.com", "123", "repo:acme/app")+".json", mappingBase(other[0], other[1], other[2])+".json")
		if id, ok := s.Installation(other[0], other[1], other[2], now); ok {
			t.Errorf("installation %d of github.com/123/repo:acme/app handed out for %v", id, other)
		}
	}

	s.PutClockOffset("github.com", time.Minute)
	plant(clockName("github.com"), clockName("ghe.example.com"))
	if d := s.ClockOffset("ghe.example.com"); d != 0 {
		t.Errorf("github.com's clock offset %s used for another host", d)
	}
}

func TestBadFilesAreMisses(t *testing.T) {
	s := openTemp(t)
	k := key()
	good := entry(k, "ghs_abc", now.Add(time.Hour))
	s.Put(good)
	data, _ := os.ReadFile(s.tokenPath(k))
	cases := map[string]func(path string){
		"truncated": func(p string) { os.WriteFile(p, data[:len(data)/2], 0o600) },
		"empty":     func(p string) { os.WriteFile(p, nil, 0o600) },
		"garbage":   func(p string) { os.WriteFile(p, []byte("\x00\xff{{{"), 0o600) },
		"not json":  func(p string) { os.WriteFile(p, []byte("token=ghs_abc"), 0o600) },
		"huge":      func(p string) { os.WriteFile(p, append(data, make([]byte, maxFileSize)...), 0o600) },
		"directory": func(p string) { os.Remove(p); os.Mkdir(p, 0o700) },
		"wrong types": func(p string) {
			os.WriteFile(p, []byte(`{"key":"x","token":7,"expires_at":"soon"}`), 0o600)
		},
	}
	if runtime.GOOS != "windows" {
		cases["readable by others"] = func(p string) { os.WriteFile(p, data, 0o600); os.Chmod(p, 0o644) }
		cases["symlink to elsewhere"] = func(p string) {
			other := filepath.Join(t.TempDir(), "x")
			os.WriteFile(other, data, 0o600)
			os.Symlink(other, p)
		}
	}
	for name, corrupt := range cases {
		t.Run(name, func(t *testing.T) {
			p := s.tokenPath(k)
			os.RemoveAll(p)
			corrupt(p)
			got, ok := s.Get(k, now, 0)
			if ok {
				t.Fatalf("hit on a %s file: %+v", name, got)
			}
			// The store recovers: a new Put replaces the bad file.
			os.RemoveAll(p)
			if err := s.Put(good); err != nil {
				t.Fatal(err)
			}
			if _, ok := s.Get(k, now, 0); !ok {
				t.Fatal("miss after rewriting")
			}
		})
	}
	t.Run("foreign owner", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			t.Skip("file owners are not checked on Windows")
		}
		defer func(f func() int) { currentUID = f }(currentUID)
		currentUID = func() int { return os.Getuid() + 1 }
		if _, ok := s.Get(k, now, 0); ok {
			t.Fatal("a file of another user was trusted")
		}
	})
}

func TestForget(t *testing.T) {
	s := openTemp(t)
	k1, k2 := key(), key()
	k2.Repositories = []string{"other"}
	s.Put(entry(k1, "ghs_one", now.Add(time.Hour)))
	s.Put(entry(k2, "ghs_two", now.Add(time.Hour)))
	if found, err := s.Forget("ghs_nope"); found || err != nil {
		t.Fatalf("Forget(unknown) = %v, %v", found, err)
	}
	if found, err := s.Forget(""); found || err != nil {
		t.Fatalf("Forget(\"\") = %v, %v", found, err)
	}
	if found, err := s.Forget("ghs_one"); !found || err != nil {
		t.Fatalf("Forget = %v, %v", found, err)
	}
	if _, ok := s.Get(k1, now, 0); ok {
		t.Fatal("forgotten token still served")
	}
	if _, ok := s.Get(k2, now, 0); !ok {
		t.Fatal("Forget removed another token")
	}
	if l := s.List(); len(l) != 1 || l[0].Token != "ghs_two" {
		t.Fatalf("List = %+v", l)
	}
}

func TestInstallationMapping(t *testing.T) {
	s := openTemp(t)
	if _, ok := s.Installation("github.com", "123", "repo:acme/app", now); ok {
		t.Fatal("empty hit")
	}
	s.PutInstallation("github.com", "123", "repo:acme/app", 42, now)
	if id, ok := s.Installation("GITHUB.COM", "123", "repo:Acme/App", now.Add(time.Hour)); !ok || id != 42 {
		t.Fatalf("Installation = %d, %v", id, ok)
	}
	if _, ok := s.Installation("github.com", "124", "repo:acme/app", now); ok {
		t.Fatal("mapping of another app")
	}
	if _, ok := s.Installation("github.com", "123", "repo:acme/app", now.Add(MappingTTL+time.Minute)); ok {
		t.Fatal("stale mapping trusted")
	}
	s.DropInstallation("github.com", "123", "repo:acme/app")
	if _, ok := s.Installation("github.com", "123", "repo:acme/app", now); ok {
		t.Fatal("dropped mapping still there")
	}
}

func TestClockOffset(t *testing.T) {
	s := openTemp(t)
	if d := s.ClockOffset("github.com"); d != 0 {
		t.Fatalf("offset %v before any was stored", d)
	}
	s.PutClockOffset("github.com", -10*time.Minute)
	if d := s.ClockOffset("github.com"); d != -10*time.Minute {
		t.Fatalf("offset %v", d)
	}
	if d := s.ClockOffset("ghe.example.com"); d != 0 {
		t.Fatalf("offset of another host: %v", d)
	}
}

func TestLockSerialisesMinting(t *testing.T) {
	dir := filepath.Join(t.TempDir(), DirName)
	k := key()
	var minted, inside, maxInside atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s, err := Open(dir) // its own Store and file descriptors, as a separate process has
			if err != nil {
				t.Error(err)
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			unlock, err := s.Lock(ctx, k)
			if err != nil {
				t.Error(err)
				return
			}
			defer unlock()
			n := inside.Add(1)
			if n > maxInside.Load() {
				maxInside.Store(n)
			}
			defer inside.Add(-1)
			if _, ok := s.Get(k, now, 0); ok {
				return
			}
			time.Sleep(20 * time.Millisecond)
			minted.Add(1)
			s.Put(entry(k, "ghs_once", now.Add(time.Hour)))
		}(i)
	}
	wg.Wait()
	if minted.Load() != 1 {
		t.Fatalf("minted %d times, want 1", minted.Load())
	}
	if maxInside.Load() != 1 {
		t.Fatalf("%d holders at once", maxInside.Load())
	}
}

func TestLockGivesUp(t *testing.T) {
	s := openTemp(t)
	unlock, err := s.Lock(context.Background(), key())
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	other, _ := Open(s.Dir())
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := other.Lock(ctx, key()); err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock on a held lock = %v, want deadline exceeded", err)
	}
}

func TestDefaultDir(t *testing.T) {
	t.Setenv("GHAPP_CACHE_DIR", "")
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/1000")
	t.Setenv("XDG_CACHE_HOME", "/home/u/.cache")
	if d := DefaultDir(); d != filepath.Join("/run/user/1000", DirName) {
		t.Fatalf("DefaultDir = %s", d)
	}
	t.Setenv("XDG_RUNTIME_DIR", "")
	if d := DefaultDir(); d != filepath.Join("/home/u/.cache", DirName) {
		t.Fatalf("DefaultDir = %s", d)
	}
	t.Setenv("XDG_RUNTIME_DIR", "relative/dir")
	if d := DefaultDir(); d != filepath.Join("/home/u/.cache", DirName) {
		t.Fatalf("a relative XDG_RUNTIME_DIR must be ignored, got %s", d)
	}
}

// TestDefaultDirFromGHAPPCacheDir: GHAPP_CACHE_DIR (the GitHub Action's per-job cache) is the
// directory itself and wins over the XDG variables; a relative one is ignored.
func TestDefaultDirFromGHAPPCacheDir(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/1000")
	t.Setenv("GHAPP_CACHE_DIR", "/runner/_temp/job/cache")
	if d := DefaultDir(); d != "/runner/_temp/job/cache" {
		t.Fatalf("DefaultDir = %s, want GHAPP_CACHE_DIR", d)
	}
	t.Setenv("GHAPP_CACHE_DIR", "cache")
	if d := DefaultDir(); d != filepath.Join("/run/user/1000", DirName) {
		t.Fatalf("a relative GHAPP_CACHE_DIR must be ignored, got %s", d)
	}
}

func BenchmarkGetHit(b *testing.B) {
	s, _ := Open(filepath.Join(b.TempDir(), DirName))
	k := key()
	s.Put(entry(k, strings.Repeat("x", 520), time.Now().Add(time.Hour)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := s.Get(k, time.Now(), 10*time.Minute); !ok {
			b.Fatal("miss")
		}
	}
}

// TestGetReadsIntoItsOwnBuffer: Get and Installation read their file into the Store's scratch
// buffer when it fits, and into a new slice when it does not. What they return must not share
// that buffer (a later read would change it), and many goroutines may call them at once (run
// under -race in CI).
func TestGetReadsIntoItsOwnBuffer(t *testing.T) {
	s := openTemp(t)
	small := key()
	large := key()
	for i := range 40 { // a file well over the scratch buffer
		large.Repositories = append(large.Repositories, fmt.Sprintf("repository-with-a-long-name-%02d", i))
	}
	for k, token := range map[*Key]string{&small: "ghs_small", &large: "ghs_large"} {
		if err := s.Put(entry(*k, token, now.Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	if data, ok := s.read(tokenName(large), nil); !ok || len(data) <= len(s.scratch) {
		t.Fatalf("the large entry is %d bytes, not larger than the scratch buffer (%d)", len(data), len(s.scratch))
	}
	if err := s.PutInstallation("github.com", "123", "acme", 42, now); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				k, want := small, "ghs_small"
				if (g+i)%2 == 1 {
					k, want = large, "ghs_large"
				}
				e, ok := s.Get(k, now, time.Minute)
				id, found := s.Installation("github.com", "123", "acme", now)
				again, _ := s.Get(small, now, time.Minute) // reuses the buffer e may have come from
				if !ok || e.Token != want || len(e.Key.Repositories) != len(k.Repositories) || !found || id != 42 || again.Token != "ghs_small" {
					t.Errorf("goroutine %d, get %d: %+v, %v; installation %d, %v", g, i, e, ok, id, found)
					return
				}
			}
		}()
	}
	wg.Wait()
}
