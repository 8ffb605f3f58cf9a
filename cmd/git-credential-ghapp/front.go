// Command git-credential-ghapp is a git credential helper that authenticates git to GitHub as a
// GitHub App. This binary is its front, the one git starts for every request: it speaks git's
// protocol and answers what the token cache can answer (a cached token, store, erase, a request
// for another host), waiting for another process that is minting the same token. Everything else
// (a miss, an expiring token, every command for people, --help, version) it hands to the full
// helper, git-credential-ghapp-full, by replacing itself with it: same arguments, same
// environment, the request already read as standard input, and, on a miss, the cache lock the
// front took, so that of many gets that miss at once one starts the full helper to mint, and the
// others wait for its token here.
//
// The front links no network, TLS, JWT or key code, so that starting it costs about what
// `git credential-store` costs; TestFrontStaysLight keeps it so.
//
// Usage as git runs it:
//
//	git config --global credential.https://github.com.helper 'ghapp --app-id 123 --key-file ~/.config/git-credential-ghapp/123.pem'
//	git config --global credential.https://github.com.useHttpPath true
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/cache"
	"github.com/git-credential-ghapp/git-credential-ghapp/credential"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/harden"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/options"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/route"
)

// fullName is the file name of the full helper.
const fullName = "git-credential-ghapp-full"

// maxRequest bounds the request the front reads before handing it over: a little more than
// credential.ReadRequest accepts, so that the full helper sees, and reports, a request too long.
const maxRequest = 1<<20 + 1

func main() {
	request, waited, held, answered := front(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, start())
	if answered {
		os.Exit(0)
	}
	path, err := fullHelper()
	if err == nil && waited > 0 {
		// The full helper waits only for what is left of the one budget of this get.
		err = os.Setenv(options.LockWaitedVar, waited.String())
	}
	if err == nil {
		// returns only on failure (or on windows, exits); a lock still held is released as the
		// process exits
		err = handOver(path, os.Args, request, held)
	}
	fmt.Fprintf(os.Stderr, "git-credential-ghapp: %v\n", err)
	os.Exit(1)
}

// start hardens the process and returns how the front reads its environment. environ reads
// /proc/self/environ, which a process that is not dumpable cannot open unless it is root (its
// /proc files then belong to root), so it comes first, while the process holds nothing but what
// it was started with; then harden.Process, before anything else: no core dump or same-user
// ptrace holds a token (TestStartReadsTheEnvironmentAsAUser).
func start() (getenv func(string) string) {
	getenv = environ()
	harden.Process()
	return getenv
}

// front answers git's get, store or erase from the cache when it can, and reports whether it
// did. When it did not, it returns what the full helper is to get: the request it read from stdin
// (nil when it read nothing), how long this get has waited for other processes' cache locks so
// far (what options.LockWaited reported plus the front's own wait), and the cache lock it took
// for the full helper to mint under (nil when it took none).
func front(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) (request []byte, waited time.Duration, held *cache.Held, answered bool) {
	request, f, answered := answer(args, stdin, stdout, stderr, getenv)
	if f != nil {
		waited, held = f.waited, f.held
	}
	return request, waited, held, answered
}

// answer is front without the wait's bookkeeping; f is nil when no get or erase was served.
func answer(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) (request []byte, f *frontHelper, answered bool) {
	o, rest, err := options.Parse(args, getenv)
	if err != nil || len(rest) == 0 {
		return nil, nil, false
	}
	op := rest[0]
	if op != "get" && op != "store" && op != "erase" {
		return nil, nil, false
	}
	if len(rest) > 1 { // global options after the operation
		if o, rest, err = o.Extend(rest[1:], getenv); err != nil || len(rest) > 0 {
			return nil, nil, false
		}
	}
	if o.AuditLog != "" && op != "store" {
		// The audit log hashes tokens with SHA-256, which the front does not link (Go's FIPS
		// 140 module would come with it): the full helper answers, and records, every get and
		// erase then. stdin is left for it to read.
		return nil, nil, false
	}
	request, err = readRequest(stdin)
	if err != nil {
		return request, nil, false
	}
	if op == "store" {
		return nil, nil, true // nothing to keep: the cache holds only what this helper minted
	}
	f = &frontHelper{o: o, stderr: stderr, waited: options.LockWaited(getenv)}
	for _, n := range o.Notes {
		f.trace("%s", n)
	}
	h := credential.Handler{Host: o.Hostname, Helper: f}
	if o.Trace {
		h.Ignored = func(reason string) { f.trace("%s", reason) }
	}
	// No deadline here: a timer starts the runtime's poller (an epoll instance and a thread woken
	// to wait on it), which neither a hit nor a miss that finds no lock file needs. The store's
	// LockWait bounds the only wait (see waitFor). The answer goes straight to stdout: Handle
	// writes it in one piece, and only once it has all of it.
	if err := h.Handle(context.Background(), op, bytes.NewReader(request), stdout); err != nil {
		// A miss, or anything to report: the full helper decides and says it, in its words.
		if !errors.Is(err, errMiss) {
			f.trace("handing over: %v", err)
		}
		return request, f, false
	}
	return nil, f, true
}

// readRequest reads git's request up to its blank line or the end of input.
func readRequest(r io.Reader) ([]byte, error) {
	buf := make([]byte, 0, 4096)
	for len(buf) < maxRequest {
		buf = slices.Grow(buf, 1) // room to read into, at least one byte
		n, err := r.Read(buf[len(buf):min(cap(buf), maxRequest)])
		buf = buf[:len(buf)+n]
		if bytes.HasPrefix(buf, []byte("\n")) || bytes.Contains(buf, []byte("\n\n")) || err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// errMiss is how frontHelper says "the cache cannot answer this; hand it over".
var errMiss = errors.New("not answered from the cache")

// frontHelper answers the requests credential.Handler serves from the cache alone.
type frontHelper struct {
	o      *options.Options
	stderr io.Writer
	// waited is how long this get has waited for other processes' locks: before the front
	// started (options.LockWaited), then in the front.
	waited time.Duration
	// held is the cache lock Get took on a miss, for the full helper (see lookAgain).
	held *cache.Held
}

func (f *frontHelper) trace(format string, args ...any) {
	if f.o.Trace {
		fmt.Fprintf(f.stderr, "git-credential-ghapp: trace: %s\n", fmt.Sprintf(format, args...))
	}
}

// Get returns the cached token for req, waiting first for a process that is discovering the
// installation or minting the token; anything else is errMiss, with the lock of what is missing
// held for the full helper where the platform can hand it over (see lookAgain).
func (f *frontHelper) Get(ctx context.Context, req *credential.Request) (*credential.Credential, error) {
	if f.o.AppID == "" {
		return nil, errMiss
	}
	t, err := route.TargetFromPath(req.Path)
	if err != nil {
		return nil, errMiss
	}
	r := f.o.Route()
	repos, err := r.Repositories(t)
	if err != nil {
		return nil, errMiss
	}
	store, err := cache.Open(f.o.CacheDir)
	if err != nil {
		return nil, errMiss
	}
	// One budget for the whole get, shared with the full helper if it gets the request.
	store.LockWait = max(0, store.LockWait-f.waited)
	inherited := f.waited
	defer func() { f.waited = inherited + store.Waited() }()
	id, ok := r.CachedInstallation(store, t, time.Now())
	if !ok {
		target, _, _ := r.MappingTarget(t)
		if id, ok = lookAgain(ctx, f,
			func(ctx context.Context) (*cache.Held, error) {
				return store.HoldInstallation(ctx, r.Host, r.AppID, target)
			},
			func(ctx context.Context) error { return store.AwaitInstallationLock(ctx, r.Host, r.AppID, target) },
			func() (int64, bool) { return r.CachedInstallation(store, t, time.Now()) }); !ok {
			f.trace("no installation cached for %s", target)
			return nil, errMiss
		}
	}
	key := r.Key(id, repos)
	e, ok := r.CachedToken(store, key, time.Now())
	if !ok {
		if e, ok = lookAgain(ctx, f,
			func(ctx context.Context) (*cache.Held, error) { return store.Hold(ctx, key) },
			func(ctx context.Context) error { return store.AwaitLock(ctx, key) },
			func() (*cache.Entry, bool) { return r.CachedToken(store, key, time.Now()) }); !ok {
			f.trace("no token cached for installation %d with enough life left", id)
			return nil, errMiss
		}
	}
	f.trace("cached token for installation %d, %s left", id, time.Until(e.ExpiresAt).Round(time.Second))
	return &credential.Credential{Username: credential.TokenUsername, Password: e.Token, PasswordExpiry: e.ExpiresAt}, nil
}

// lookAgain is Get's second look after a miss. Where the front can hand a lock over to the full
// helper (handsOverLocks), it takes the lock of what is missing (hold: waiting while another
// process holds it, as that process is discovering or minting) and looks again; a hit releases
// the lock, and a miss keeps it in f.held for the full helper, which discovers or mints under it.
// So of many gets that miss at once, one starts the full helper, and the others wait in this
// light binary and then find its answer. Elsewhere it waits without taking the lock (await, see
// cache.AwaitLock) and looks again; the full helper then takes the lock itself. A lock that
// cannot be taken is left to the full helper, which says why. The store's LockWait (at most
// cache.DefaultLockWait) bounds the wait; a deadline on ctx would start a timer, and with it the
// runtime's poller, on every miss, and most misses find no lock file and wait for nothing.
func lookAgain[T any](ctx context.Context, f *frontHelper, hold func(context.Context) (*cache.Held, error), await func(context.Context) error, look func() (T, bool)) (T, bool) {
	var zero T
	if !handsOverLocks {
		if err := await(ctx); err != nil {
			return zero, false
		}
		return look()
	}
	h, err := hold(ctx)
	if err != nil {
		return zero, false
	}
	v, ok := look()
	if ok {
		h.Release()
		return v, true
	}
	f.held = h
	return zero, false
}

// Erase forgets the token git reports as rejected.
func (f *frontHelper) Erase(_ context.Context, req *credential.Request) error {
	if f.o.AppID == "" {
		return nil // nothing was handed out without an app id, so there is nothing to forget
	}
	store, err := cache.Open(f.o.CacheDir)
	if err != nil {
		return errMiss
	}
	found, err := f.o.Route().Forget(store, req.Password)
	if err != nil {
		return errMiss
	}
	if found {
		f.trace("forgot a token git reported as rejected")
	}
	return nil
}

// fullHelper finds the full helper next to this binary's resolved path, or in
// ../libexec/git-credential-ghapp/ from it; never through PATH.
func fullHelper() (string, error) {
	self, err := os.Executable()
	if err == nil && runtime.GOOS != "linux" { // Linux's (/proc/self/exe) has no links left in it
		self, err = filepath.EvalSymlinks(self)
	}
	if err != nil {
		return "", fmt.Errorf("cannot find where this program is, to run %s: %v", fullName, err)
	}
	name := fullName
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	dir := filepath.Dir(self)
	beside := filepath.Join(dir, name)
	libexec := filepath.Join(filepath.Dir(dir), "libexec", "git-credential-ghapp", name)
	for _, p := range []string{beside, libexec} {
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		if !fi.Mode().IsRegular() || (runtime.GOOS != "windows" && fi.Mode().Perm()&0o111 == 0) {
			return "", fmt.Errorf("%s is not an executable file: reinstall git-credential-ghapp (./install.sh)", p)
		}
		return p, nil
	}
	return "", fmt.Errorf("the full helper %s is missing (looked in %s and %s): reinstall git-credential-ghapp (./install.sh)", name, dir, filepath.Dir(libexec))
}
