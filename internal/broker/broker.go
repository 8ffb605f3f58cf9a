// Package broker answers git's credential requests with installation tokens: it maps the request
// to an installation, reuses a cached token minted for exactly the scope asked for, or mints one
// while holding that scope's lock, so that concurrent callers mint once.
//
// The flow runs one way: request -> target -> installation -> cache -> mint -> reply. A cache hit
// touches two small files and nothing else: no key, no network, no subprocess.
package broker

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"maps"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth"
	"github.com/git-credential-ghapp/git-credential-ghapp/cache"
	"github.com/git-credential-ghapp/git-credential-ghapp/credential"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/audit"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/route"
)

// Broker hands out installation tokens for one app on one host.
type Broker struct {
	// Route is the app, the host and the options that shape a token's scope: what decides a
	// request's cache key and whether a cached token answers it (the same decision the front
	// makes).
	route.Route
	CacheDir string // where tokens are kept; "" = no cache (every call mints)
	// LockWaited is how long this request already waited for other processes' cache locks
	// before the broker got it (in the front); the broker waits only for what is left of
	// cache.DefaultLockWait.
	LockWaited time.Duration
	// HeldLock is the cache lock the front took for this request and handed over (see
	// cache.Store.Adopt); nil when it took none.
	HeldLock *os.File

	// API returns the GitHub client; it is called only when the cache cannot answer, so that
	// loading the key and setting up TLS stay off the cached path.
	API func() (*appauth.Client, error)
	// Now is the clock; nil = time.Now.
	Now func() time.Time
	// Trace, when set, receives one line for each decision; it is never given a secret.
	Trace func(string)
	// Warn receives problems the user should fix that do not stop the request, such as a
	// cache directory others can read (the broker then works without a cache).
	Warn func(string)
	// Audit, when set, gets one line per mint, reuse of a cached token and erase.
	Audit *audit.Log

	api        *appauth.Client
	store      *cache.Store
	storeTried bool
}

// openCache opens the cache directory on first use. A directory that cannot be used safely is
// reported through Warn and the broker goes on without a cache.
func (b *Broker) openCache() *cache.Store {
	if b.storeTried {
		return b.store
	}
	b.storeTried = true
	if b.CacheDir == "" {
		return nil
	}
	s, err := cache.Open(b.CacheDir)
	if err != nil {
		if b.Warn != nil {
			b.Warn(err.Error() + "; going on without a token cache")
		}
		return nil
	}
	s.LockWait = max(0, s.LockWait-b.LockWaited)
	if b.HeldLock != nil {
		if err := s.Adopt(b.HeldLock); err != nil {
			b.trace("%v; taking the locks anew", err)
		} else {
			b.trace("holding the cache lock the front took")
		}
	}
	if b.LockWaited > 0 {
		b.trace("waited %s for other processes' cache locks before this helper started; %s left", b.LockWaited, s.LockWait)
	}
	b.store = s
	return s
}

func (b *Broker) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

func (b *Broker) trace(format string, args ...any) {
	if b.Trace != nil {
		b.Trace(fmt.Sprintf(format, args...))
	}
}

func (b *Broker) client() (*appauth.Client, error) {
	if b.api != nil {
		return b.api, nil
	}
	if b.API == nil {
		return nil, errors.New("no GitHub client configured")
	}
	c, err := b.API()
	if err != nil {
		return nil, err
	}
	if store := b.openCache(); store != nil {
		// Sign with the clock offset an earlier process learned, and keep what this one learns.
		c.ClockOffset = store.ClockOffset(b.Host)
		c.OnClockOffset = func(d time.Duration) {
			if err := store.PutClockOffset(b.Host, d); err != nil {
				b.trace("could not remember the clock offset: %v", err)
			}
		}
	}
	b.api = c
	return c, nil
}

// installation returns the installation for t and whether the answer came from the cache.
// When the cache has no answer and lock is true, it first takes the discovery lock for t and
// returns the function that releases it (otherwise a no-op), which the caller calls once it has
// minted: of many processes that miss at once (the parallel fetches of a fresh clone, a build
// farm's jobs), one asks GitHub and mints, and the others wait and then find its answer and its
// token in the cache, without a request, a key or a TLS handshake of their own. release is valid
// even with an error.
//
// moved is the repository's id when discovery found that t's repository was renamed or
// transferred (GitHub redirected its name); a cached answer leaves it 0 (see movedID).
func (b *Broker) installation(ctx context.Context, t route.Target, lock bool) (id int64, fromCache bool, moved int64, release func(), err error) {
	release = func() {}
	if b.InstallationID != 0 {
		return b.InstallationID, false, 0, release, nil
	}
	target, owner, repo := b.MappingTarget(t)
	store := b.openCache()
	if store != nil {
		if id, ok := b.CachedInstallation(store, t, b.now()); ok {
			b.trace("installation %d for %s (cached)", id, target)
			return id, true, 0, release, nil
		}
		if lock {
			unlock, err := store.LockInstallation(ctx, b.Host, b.AppID, target)
			if err != nil {
				if ctx.Err() != nil {
					return 0, false, 0, release, err
				}
				// A lock that cannot be taken (a stopped holder, a planted file) costs at
				// most an extra request, never the answer.
				b.trace("%v; going on without the lock", err)
				unlock = func() {}
			}
			release = unlock
			if id, ok := b.CachedInstallation(store, t, b.now()); ok {
				b.trace("installation %d for %s (discovered by another process)", id, target)
				return id, true, 0, release, nil
			}
		}
	}
	c, err := b.client()
	if err != nil {
		return 0, false, 0, release, err
	}
	inst, err := c.FindInstallation(ctx, owner, repo)
	if err != nil {
		return 0, false, 0, release, err
	}
	b.trace("installation %d for %s (discovered, account %s)", inst.ID, target, inst.Account.Login)
	if inst.MovedRepositoryID != 0 {
		b.trace("%s/%s was renamed or transferred: GitHub knows it as repository %d", owner, repo, inst.MovedRepositoryID)
	}
	if store != nil {
		if err := store.PutInstallation(b.Host, b.AppID, target, inst.ID, b.now()); err != nil {
			b.trace("could not cache the installation: %v", err)
		}
		if repo != "" {
			// Remember the moved repository's id (under its own target) so that cached gets
			// find the token minted for it; drop it when the name is no longer redirected.
			mt := movedTarget(owner, repo)
			if inst.MovedRepositoryID != 0 {
				err = store.PutInstallation(b.Host, b.AppID, mt, inst.MovedRepositoryID, b.now())
			} else {
				err = store.DropInstallation(b.Host, b.AppID, mt)
			}
			if err != nil {
				b.trace("could not cache the repository's move: %v", err)
			}
		}
	}
	return inst.ID, false, inst.MovedRepositoryID, release, nil
}

// movedTarget names the cache entry that holds a moved repository's id (stored with the
// installation mappings; its value is the repository id, not an installation id).
func movedTarget(owner, repo string) string {
	return "moved-repo:" + strings.ToLower(owner+"/"+repo)
}

// movedID returns the repository id cached for t's repository when discovery found it moved.
func (b *Broker) movedID(t route.Target) int64 {
	store := b.openCache()
	if store == nil || t.Repo == "" || b.InstallationID != 0 {
		return 0
	}
	id, _ := store.Installation(b.Host, b.AppID, movedTarget(t.Owner, t.Repo), b.now())
	return id
}

// repositoryIDKey is how a cache key names a repository minted by id: "#ID". It can never be a
// repository name, so a token minted for repository id N is only ever handed out for N.
func repositoryIDKey(id int64) string { return "#" + strconv.FormatInt(id, 10) }

// byID rewrites a key for one repository into the key for the repository's id.
func byID(key cache.Key, id int64) cache.Key {
	key.Repositories = []string{repositoryIDKey(id)}
	return key
}

// Token returns a token for t: from the cache when one for exactly this scope has at least
// MinLifetime left, otherwise freshly minted. Of concurrent callers (in any process) asking for
// the same scope, one mints and the others wait for its token, until ctx is done.
func (b *Broker) Token(ctx context.Context, t route.Target) (*cache.Entry, error) {
	return b.TokenFor(ctx, t, nil)
}

// TokenFor is Token for one token covering every repository in repos together: names under
// t.Owner, t.Repo among them (the installation of several is found through t.Owner). The token is minted for,
// and cached under, exactly that set (see route.RepositorySet); nil repos is Token(ctx, t).
func (b *Broker) TokenFor(ctx context.Context, t route.Target, repos []string) (*cache.Entry, error) {
	repos, err := b.RepositorySet(t, repos)
	if err != nil {
		return nil, err
	}
	if len(repos) > 1 {
		// An app has one installation per account: find it through the account, so that the
		// set's order plays no part and one cached answer serves every set of that account.
		t = route.Target{Owner: t.Owner}
	}
	id, fromCache, moved, release, err := b.installation(ctx, t, true)
	defer release()
	if err != nil {
		return nil, err
	}
	key := b.Key(id, repos)
	if moved != 0 && len(repos) == 1 {
		key = byID(key, moved)
	}
	store := b.openCache()
	if store != nil {
		e, ok := b.CachedToken(store, key, b.now())
		if !ok && moved == 0 && len(repos) == 1 && fromCache {
			// Not cached by name: the repository may have moved (only then is its id cached).
			if mid := b.movedID(t); mid != 0 {
				key = byID(key, mid)
				e, ok = b.CachedToken(store, key, b.now())
			}
		}
		if ok {
			b.trace("cached token for installation %d %s, %s left", id, scopeText(key.Repositories), e.ExpiresAt.Sub(b.now()).Round(time.Second))
			b.Audit.Record(AuditEvent(audit.EventReuse, e))
			return e, nil
		}
		unlock, err := store.Lock(ctx, key)
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			b.trace("%v; minting without the lock", err) // at worst one more mint
			unlock = func() {}
		}
		defer unlock()
		// Another process may have minted while this one waited for the lock.
		if e, ok := b.CachedToken(store, key, b.now()); ok {
			b.trace("token minted by another process for installation %d %s", id, scopeText(repos))
			b.Audit.Record(AuditEvent(audit.EventReuse, e))
			return e, nil
		}
	}
	e, err := b.mint(ctx, key)
	if err != nil && fromCache && retryableWithFreshMapping(err) {
		// The cached installation may be stale (the app was uninstalled and installed again):
		// look it up again, once.
		target, _, _ := b.MappingTarget(t)
		b.trace("mint for cached installation %d failed; looking %s up again", id, target)
		_ = store.DropInstallation(b.Host, b.AppID, target)
		// Without the discovery lock: this process holds a token lock, and locks are taken
		// discovery first, token second, never the other way round.
		newID, _, newMoved, _, ierr := b.installation(ctx, t, false)
		if ierr != nil {
			return nil, ierr
		}
		if newID != id {
			key.InstallationID = newID
			if newMoved != 0 && len(repos) == 1 {
				key = byID(key, newMoved)
			}
			e, err = b.mint(ctx, key)
		}
	}
	if err != nil {
		return nil, err
	}
	b.Audit.Record(AuditEvent(audit.EventMint, e))
	if store != nil {
		if err := store.Put(e); err != nil {
			b.trace("could not cache the token: %v", err)
		}
	}
	return e, nil
}

// retryableWithFreshMapping reports whether a mint failed because the cached installation is
// gone (GitHub answers 404 for an installation that was removed or replaced).
func retryableWithFreshMapping(err error) bool {
	return appauth.IsNotFound(err)
}

func (b *Broker) mint(ctx context.Context, key cache.Key) (*cache.Entry, error) {
	c, err := b.client()
	if err != nil {
		return nil, err
	}
	req := appauth.TokenRequest{Permissions: maps.Clone(key.Permissions)}
	for _, r := range key.Repositories {
		if idText, ok := strings.CutPrefix(r, "#"); ok {
			id, err := strconv.ParseInt(idText, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("invalid repository id %q", r)
			}
			req.RepositoryIDs = append(req.RepositoryIDs, id)
		} else {
			req.Repositories = append(req.Repositories, r)
		}
	}
	mintedAt := c.Now
	if mintedAt == nil {
		mintedAt = time.Now
	}
	start := mintedAt()
	tok, err := c.CreateToken(ctx, key.InstallationID, req)
	if err != nil {
		return nil, err
	}
	if tok.Token == "" {
		return nil, errors.New("GitHub returned an empty installation token")
	}
	b.trace("minted a token for installation %d %s, expires %s", key.InstallationID, scopeText(key.Repositories), tok.ExpiresAt.UTC().Format(time.RFC3339))
	// GitHub refuses a token for a few seconds after minting, until it has replicated it
	// (octokit/auth-app.js retries for 5 s; coder/coder#8956). git cannot wait: it fails the
	// clone on the first 401. So hand the token out only once GitHub accepts it, within
	// FreshTokenWait; after that hand it out anyway (git will say what GitHub says).
	vctx, cancel := context.WithTimeout(ctx, appauth.FreshTokenWait+2*time.Second)
	if err := c.AwaitToken(vctx, tok.Token, start); err != nil {
		b.trace("GitHub has not accepted the new token yet (%v); handing it out anyway", err)
	}
	cancel()
	return &cache.Entry{
		Key:   key,
		Token: tok.Token,
		// expires_at is on GitHub's clock; moved onto ours, so the minimum-lifetime check and
		// git's password_expiry_utc see the time the token really stops working.
		ExpiresAt:           tok.ExpiresAt.Add(-c.ClockOffset),
		CreatedAt:           b.now().UTC(),
		Permissions:         tok.Permissions,
		RepositorySelection: tok.RepositorySelection,
		Repositories:        tok.Repositories,
	}, nil
}

func scopeText(repos []string) string {
	if len(repos) == 0 {
		return "(all repositories)"
	}
	return "(" + strings.Join(repos, ",") + ")"
}

// Forget drops a token this broker handed out, so the next request mints a fresh one. It does
// not revoke the token at GitHub.
// With an audit log, the erase is recorded.
func (b *Broker) Forget(token string) (bool, error) {
	store := b.openCache()
	var forgotten *cache.Entry
	if store != nil && b.Audit != nil && b.Audit.Path != "" && token != "" {
		for _, e := range store.List() {
			if subtle.ConstantTimeCompare([]byte(e.Token), []byte(token)) == 1 {
				forgotten = &e
				break
			}
		}
	}
	found, err := b.Route.Forget(store, token)
	if found && forgotten != nil {
		b.Audit.Record(AuditEvent(audit.EventErase, forgotten))
	}
	return found, err
}

// AuditEvent describes a cached or minted token for the audit log: the repositories and
// permissions GitHub granted (what the key asked for when GitHub did not say).
func AuditEvent(event string, e *cache.Entry) audit.Event {
	repos := e.Repositories
	if len(repos) == 0 {
		repos = e.Key.Repositories
	}
	perms := e.Permissions
	if len(perms) == 0 {
		perms = e.Key.Permissions
	}
	return audit.Event{Event: event, Host: e.Key.Host, App: e.Key.App, InstallationID: e.Key.InstallationID,
		Repositories: repos, Permissions: perms, ExpiresAt: e.ExpiresAt, Token: e.Token}
}

// Get answers git's get: the token for the repository in req's path as the password of
// x-access-token, with GitHub's expiry. It implements credential.Helper.
func (b *Broker) Get(ctx context.Context, req *credential.Request) (*credential.Credential, error) {
	t, err := route.TargetFromPath(req.Path)
	if err != nil {
		return nil, err
	}
	e, err := b.Token(ctx, t)
	if err != nil {
		return nil, err
	}
	return &credential.Credential{Username: credential.TokenUsername, Password: e.Token, PasswordExpiry: e.ExpiresAt}, nil
}

// Erase answers git's erase: when req's password is a token this helper handed out, it is
// forgotten (never revoked). It implements credential.Helper.
func (b *Broker) Erase(ctx context.Context, req *credential.Request) error {
	found, err := b.Forget(req.Password)
	if found {
		b.trace("forgot a token git reported as rejected")
	}
	return err
}
