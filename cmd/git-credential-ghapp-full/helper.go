package main

import (
	"context"
	"crypto"
	"sync"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth"
	"github.com/git-credential-ghapp/git-credential-ghapp/credential"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/audit"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/broker"
)

// requestDeadline bounds a whole helper operation, retries and waiting for another process's
// mint included, so git is never left hanging.
const requestDeadline = 30 * time.Second

// runHelper answers one of git's helper operations (get, store, erase).
func runHelper(ctx context.Context, e *env, o *options, op string) int {
	ctx, cancel := context.WithTimeout(ctx, requestDeadline)
	defer cancel()
	h := credential.Handler{Host: o.Hostname, Helper: lazyBroker{e: e, o: o}}
	if o.Trace {
		h.Ignored = tracer(e)
	}
	if err := h.Handle(ctx, op, e.stdin, e.stdout); err != nil {
		e.errorf("%v", err)
		return exitFail
	}
	return exitOK
}

// lazyBroker builds the broker only for a request this helper serves, so that a request for
// another host costs nothing and says nothing, even when the helper is misconfigured.
type lazyBroker struct {
	e *env
	o *options
}

// Get builds the broker and answers git's get with it.
func (l lazyBroker) Get(ctx context.Context, req *credential.Request) (*credential.Credential, error) {
	b, err := newBroker(l.e, l.o)
	if err != nil {
		return nil, err
	}
	return b.Get(ctx, req)
}

// Erase builds the broker and forgets the token git reports as rejected.
func (l lazyBroker) Erase(ctx context.Context, req *credential.Request) error {
	b, err := newBroker(l.e, l.o)
	if err != nil {
		return nil // nothing was handed out without an app id, so there is nothing to forget
	}
	return b.Erase(ctx, req)
}

// newBroker wires the options into a broker whose GitHub client (and private key) is made only
// when the cache cannot answer.
func newBroker(e *env, o *options) (*broker.Broker, error) {
	if o.AppID == "" {
		return nil, errNoAppID
	}
	b := &broker.Broker{
		Route:      *o.Route(),
		CacheDir:   o.CacheDir,
		LockWaited: e.lockWaited,
		HeldLock:   e.heldLock,
		API:        func() (*appauth.Client, error) { return newClient(e, o), nil },
		Warn:       func(msg string) { e.errorf("warning: %s", msg) },
		Audit:      auditLog(e, o),
	}
	if o.Trace {
		b.Trace = tracer(e)
	}
	return b, nil
}

// newClient returns the REST client for o; the key (or the key store's signer) is opened on the
// first request that needs a JWT.
func newClient(e *env, o *options) *appauth.Client {
	c := &appauth.Client{
		BaseURL:   o.APIURL,
		Issuer:    o.AppID,
		UserAgent: userAgent(),
		Key:       keyLoader(e, o),
	}
	if o.Trace {
		c.Trace = tracer(e)
	}
	return c
}

// keyLoader returns a function that opens the signer once (see openSigner), warning when a
// key file is readable by others. Nothing calls it on a cache hit.
func keyLoader(e *env, o *options) func() (crypto.Signer, error) {
	return sync.OnceValues(func() (crypto.Signer, error) {
		ctx, cancel := context.WithTimeout(context.Background(), requestDeadline)
		defer cancel()
		key, from, err := openSigner(ctx, e, o)
		if err != nil {
			return nil, err
		}
		if o.KeyFile != "" && o.Signer == "" {
			if w := appauth.KeyFileWarning(o.KeyFile); w != "" {
				e.errorf("%s", w) // the warning says "warning:" itself
			}
		}
		if o.Trace {
			tracer(e)("signing with the private key from " + from)
		}
		return key, nil
	})
}

// auditLog returns the audit log of o, nil when none is configured.
func auditLog(e *env, o *options) *audit.Log {
	if o.AuditLog == "" {
		return nil
	}
	return &audit.Log{Path: o.AuditLog, Getenv: e.getenv, Warn: func(msg string) { e.errorf("warning: %s", msg) }}
}

func tracer(e *env) func(string) {
	return func(msg string) { e.errorf("trace: %s", msg) }
}
