package appauth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	defaultUserAgent = "git-credential-ghapp"
	apiVersion       = "2022-11-28"
	maxResponseBytes = 4 << 20

	// Retries of 5xx answers and network errors: at most maxAttempts tries, waiting firstBackoff,
	// then twice as long each time up to maxBackoff, each wait shortened by up to half at random
	// (jitter), and never waiting past the context's deadline.
	maxAttempts  = 8
	firstBackoff = 250 * time.Millisecond
	maxBackoff   = 8 * time.Second

	// secondaryLimitWait is how long to wait on a secondary rate limit that names no time; GitHub
	// asks for at least a minute.
	secondaryLimitWait = time.Minute
	// maxWaitWithoutDeadline bounds a rate-limit wait when the context has no deadline.
	maxWaitWithoutDeadline = time.Minute
	// jwtReuse is how long a signed JWT is reused (it is valid for 9 minutes).
	jwtReuse = 4 * time.Minute
)

// Client talks to GitHub's REST API as a GitHub App. Set the exported fields before the first
// call and do not change them while calls are running; the Client itself updates ClockOffset
// (under its own lock) when it learns GitHub's clock. A Client may be used by several goroutines.
//
// Every call retries 5xx answers and network errors with backoff inside the context's deadline,
// corrects the JWT once for clock skew, and waits out a rate limit when that fits the deadline;
// the failure cases are described on each method. Times (Now, the context's deadline and Sleep)
// must all be on the same clock.
type Client struct {
	// BaseURL is the REST base, e.g. "https://api.github.com" (see APIBaseURL); no trailing slash.
	BaseURL string
	// HTTP sends the requests. nil means a client with sane timeouts that honours the proxy
	// variables (HTTPS_PROXY, NO_PROXY) and the system roots (SSL_CERT_FILE works with Go).
	HTTP *http.Client
	// Issuer is the App ID or Client ID: the JWT's iss.
	Issuer string
	// Key returns the signer that holds the app's private key: a local *rsa.PrivateKey (from a
	// file, the environment or the OS keyring) or a key store's (package keystore). It is called
	// lazily, only when a JWT is first needed, and its result is kept. Its error is returned as is.
	Key func() (crypto.Signer, error)
	// UserAgent is sent with every request; "" means "git-credential-ghapp".
	UserAgent string
	// ClockOffset is GitHub's clock minus ours; JWTs are signed at Now()+ClockOffset.
	ClockOffset time.Duration
	// OnClockOffset, if set, is called with the new offset when a clock-skew retry learns one
	// (so that the caller can remember it for the next process).
	OnClockOffset func(time.Duration)
	// Trace, if set, receives one line per request, retry and wait. It never receives a secret.
	Trace func(msg string)
	// OnRetry, if set, receives one line for people the first time a call retries a network
	// error or a 5xx ("GitHub did not answer (CAUSE); retrying for up to 28s"), so that an
	// interactive command does not wait in silence. It never receives a secret.
	OnRetry func(msg string)
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Sleep waits for d or until ctx is done (then it returns ctx's error); nil means a real
	// timer.
	Sleep func(ctx context.Context, d time.Duration) error

	mu          sync.Mutex
	defaultHTTP *http.Client
	key         crypto.Signer
	jwt         string
	jwtAt       time.Time
	jwtOffset   time.Duration
	lastOffset  time.Duration
	haveOffset  bool
	app         *App

	noRedirect  *http.Client // HTTP (or the default) with redirects left to do (see sendClient)
	noRedirFrom *http.Client
}

// authMode says how a request authenticates.
type authMode int

const (
	authApp   authMode = iota // Authorization: Bearer <app JWT>
	authToken                 // Authorization: Bearer <installation token>
)

// request is one REST call.
type request struct {
	method string
	path   string // relative to BaseURL, starting with "/", may carry a query
	body   any    // marshalled as JSON when not nil
	auth   authMode
	token  string // for authToken
}

// response is GitHub's answer to a request.
type response struct {
	status int
	header http.Header
	body   []byte
	// path is the path (relative to BaseURL) that answered: the request's, or where GitHub
	// redirected it within the API's origin.
	path string
}

// maxRedirects bounds the redirects followed for one call.
const maxRedirects = 5

// keyError carries an error from loading the key or signing, which is never retried.
type keyError struct{ err error }

func (e *keyError) Error() string { return e.err.Error() }

// permanentError carries an error that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }

// ServerTimeOffset returns GitHub's clock minus ours as measured from the Date header of the last
// response seen, and false when no response with a Date has been seen yet. The Date header has a
// resolution of one second.
func (c *Client) ServerTimeOffset() (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastOffset, c.haveOffset
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Client) trace(format string, args ...any) {
	if c.Trace != nil {
		c.Trace(redact(fmt.Sprintf(format, args...)))
	}
}

func (c *Client) userAgent() string {
	if c.UserAgent != "" {
		return c.UserAgent
	}
	return defaultUserAgent
}

func (c *Client) baseURL() string { return strings.TrimRight(c.BaseURL, "/") }

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.defaultHTTP == nil {
		c.defaultHTTP = newDefaultHTTPClient()
	}
	return c.defaultHTTP
}

// sendClient returns the client requests go through: HTTP (or the default) with Go's own
// redirect following turned off, so that do decides which redirects to follow (only within the
// API's origin) and no credential is ever sent anywhere else.
func (c *Client) sendClient() *http.Client {
	hc := c.httpClient()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.noRedirect == nil || c.noRedirFrom != hc {
		cp := *hc
		cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		c.noRedirect, c.noRedirFrom = &cp, hc
	}
	return c.noRedirect
}

func newDefaultHTTPClient() *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          10,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 20 * time.Second,
			ExpectContinueTimeout: time.Second,
		},
	}
}

// appJWT returns a JWT for the app, signed at Now()+ClockOffset, reusing a recent one.
func (c *Client) appJWT() (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.jwt != "" && c.jwtOffset == c.ClockOffset && !now.Before(c.jwtAt) && now.Sub(c.jwtAt) < jwtReuse {
		return c.jwt, nil
	}
	if c.key == nil {
		if c.Key == nil {
			return "", errors.New("no private key for the GitHub App: pass --key-file or run `git-credential-ghapp setup`")
		}
		k, err := c.Key()
		if err != nil {
			return "", err
		}
		if k == nil {
			return "", errors.New("no private key for the GitHub App: pass --key-file or run `git-credential-ghapp setup`")
		}
		c.key = k
	}
	signed, err := Signer{Issuer: c.Issuer, Key: c.key}.Sign(now.Add(c.ClockOffset))
	if err != nil {
		return "", err
	}
	c.jwt, c.jwtAt, c.jwtOffset = signed, now, c.ClockOffset
	return signed, nil
}

// secrets returns the secrets this client may have sent, for exact redaction.
func (c *Client) secrets(r request) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return []string{c.jwt, r.token}
}

// setClockOffset records a newly learnt clock offset and tells OnClockOffset.
func (c *Client) setClockOffset(off time.Duration) {
	c.mu.Lock()
	c.ClockOffset = off
	c.mu.Unlock()
	if c.OnClockOffset != nil {
		c.OnClockOffset(off)
	}
}

func (c *Client) clockOffset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ClockOffset
}

// remaining reports how long is left before ctx's deadline (on the Client's clock), and false
// when ctx has no deadline.
func (c *Client) remaining(ctx context.Context) (time.Duration, bool) {
	dl, ok := ctx.Deadline()
	if !ok {
		return 0, false
	}
	return dl.Sub(c.now()), true
}

// fits reports whether waiting d still leaves time before ctx's deadline; without a deadline
// it allows waits up to limit.
func (c *Client) fits(ctx context.Context, d, limit time.Duration) bool {
	left, ok := c.remaining(ctx)
	if !ok {
		return d <= limit
	}
	return d < left
}

// do sends r, retrying as the package documentation says, and returns a 2xx response or an
// error. Errors for 5xx, network failures, clock skew, rejected credentials and rate limits are
// explained here; other statuses come back as *APIError for the caller to explain.
func (c *Client) do(ctx context.Context, r request) (*response, error) {
	base := c.baseURL()
	if base == "" {
		return nil, errors.New("no GitHub API URL configured (--api-url)")
	}
	var body []byte
	if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return nil, fmt.Errorf("cannot encode the request to %s %s: %v", r.method, pathOnly(r.path), err)
		}
	}
	backoff := firstBackoff
	skewRetried, rateRetried := false, false
	redirects := 0
	for attempt := 1; ; attempt++ {
		resp, err := c.once(ctx, base, r, body)
		if err != nil {
			var ke *keyError
			if errors.As(err, &ke) {
				return nil, ke.err
			}
			var pe *permanentError
			if errors.As(err, &pe) {
				return nil, pe.err
			}
			netErr := &NetworkError{BaseURL: base, Err: causeOf(err)}
			if isPermanentNetError(err) || ctx.Err() != nil || attempt >= maxAttempts {
				return nil, netErr
			}
			wait := jitter(backoff)
			if !c.fits(ctx, wait, maxBackoff) {
				return nil, netErr
			}
			c.notifyRetry(ctx, attempt, redact(causeOf(err).Error()))
			c.trace("%s %s: %v; retrying in %s", r.method, pathOnly(r.path), redact(causeOf(err).Error()), wait)
			if c.sleep(ctx, wait) != nil {
				return nil, netErr
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		if resp.status >= 200 && resp.status < 300 {
			return resp, nil
		}
		if resp.status >= 300 && resp.status < 400 {
			next, err := c.redirect(base, r, resp, redirects)
			if err != nil {
				return nil, err
			}
			c.trace("%s %s: %d, following to %s", r.method, pathOnly(r.path), resp.status, pathOnly(next))
			r.path = next
			redirects++
			attempt-- // a redirect is not a failed attempt
			continue
		}
		apiErr := c.apiError(r, resp)

		switch {
		case resp.status >= 500:
			wait := max(jitter(backoff), apiErr.RetryAfter)
			if attempt >= maxAttempts || !c.fits(ctx, wait, maxBackoff) {
				return nil, explain(apiErr, "%s (gave up after %d attempts); GitHub seems to be having trouble, try again later",
					apiErr.Error(), attempt)
			}
			c.notifyRetry(ctx, attempt, fmt.Sprintf("%d %s", resp.status, http.StatusText(resp.status)))
			c.trace("%s %s: %d; retrying in %s", r.method, pathOnly(r.path), resp.status, wait)
			if err := c.sleep(ctx, wait); err != nil {
				return nil, explain(apiErr, "%s (gave up after %d attempts: %v)", apiErr.Error(), attempt, err)
			}
			backoff = min(2*backoff, maxBackoff)
			continue

		case resp.status == http.StatusUnauthorized && r.auth == authApp && isClockSkewMessage(apiErr.Message):
			date, haveDate := serverDate(resp.header)
			if !skewRetried && haveDate {
				off := date.Sub(c.now())
				c.trace("%s %s: 401 about the JWT's times; GitHub's clock is %s this machine's, re-signing", r.method, pathOnly(r.path),
					describeOffset(off))
				c.setClockOffset(off)
				skewRetried = true
				continue
			}
			if !haveDate {
				return nil, explain(apiErr, "GitHub rejected the app's JWT because of its times (%s): check this machine's clock",
					apiErr.Message)
			}
			return nil, explain(apiErr, "GitHub rejected the app's JWT because of its times (%s): check this machine's clock "+
				"(GitHub's clock is %s this machine's)", apiErr.Message, describeOffset(date.Sub(c.now())))

		case resp.status == http.StatusUnauthorized && r.auth == authApp && isIssuerTypeMessage(apiErr.Message) && !isNumericID(c.Issuer):
			// GitHub accepts a Client ID as iss on github.com since 2024-05-01, but GitHub
			// Enterprise Server only from the release that github/docs gates with
			// data/features/client-id-for-app.yml; older servers want the App ID.
			return nil, explain(apiErr, "GitHub rejected the Client ID %s as the app's JWT issuer (%s): use the numeric App ID on this server "+
				"(older GitHub Enterprise Server releases accept only the App ID)", c.Issuer, apiErr.Message)

		case resp.status == http.StatusUnauthorized && r.auth == authApp:
			return nil, explain(apiErr, "GitHub rejected the app's JWT (%s): %s", apiErr.Message, jwtRejectedHint(apiErr.Message, c.Issuer))

		case resp.status == http.StatusUnauthorized && r.auth == authToken:
			return nil, explain(apiErr, "GitHub rejected the installation token (%s): it has expired or was revoked",
				apiErr.Message)

		case isRateLimited(resp, apiErr.Message):
			wait, until := c.rateLimitWait(resp)
			apiErr.RetryAfter = wait
			if !rateRetried && c.fits(ctx, wait, maxWaitWithoutDeadline) {
				c.trace("%s %s: rate limited (%d); waiting %s", r.method, pathOnly(r.path), resp.status, wait)
				if err := c.sleep(ctx, wait); err != nil {
					return nil, rateLimitError(apiErr, until, wait)
				}
				rateRetried = true
				continue
			}
			return nil, rateLimitError(apiErr, until, wait)
		}
		return nil, apiErr
	}
}

func rateLimitError(apiErr *APIError, until time.Time, wait time.Duration) error {
	return explain(apiErr, "GitHub's rate limit is exhausted until %s (in %s); retry then (%s %s: %d %s)",
		formatUntil(until, wait), humanDuration(wait), apiErr.Method, apiErr.Path, apiErr.StatusCode, apiErr.Message)
}

func formatUntil(t time.Time, wait time.Duration) string {
	t = t.UTC()
	if wait >= 12*time.Hour {
		return t.Format("2006-01-02 15:04:05 UTC")
	}
	return t.Format("15:04:05 UTC")
}

// once sends r one time and reads the answer.
func (c *Client) once(ctx context.Context, base string, r request, body []byte) (*response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, base+r.path, rd)
	if err != nil {
		return nil, &permanentError{fmt.Errorf("cannot build the request %s %s%s: %v", r.method, base, pathOnly(r.path), err)}
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", apiVersion)
	req.Header.Set("User-Agent", c.userAgent())
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	switch r.auth {
	case authApp:
		jwt, err := c.appJWT()
		if err != nil {
			return nil, &keyError{err}
		}
		req.Header.Set("Authorization", "Bearer "+jwt)
	case authToken:
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	start := time.Now()
	resp, err := c.sendClient().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, err
	}
	c.trace("%s %s -> %d (%s)", r.method, pathOnly(r.path), resp.StatusCode, time.Since(start).Round(time.Millisecond))
	c.noteDate(resp.Header)
	if len(data) > maxResponseBytes {
		return nil, &permanentError{fmt.Errorf("GitHub's answer to %s %s is larger than %d MiB; is %s really GitHub's API?",
			r.method, pathOnly(r.path), maxResponseBytes>>20, base)}
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: data, path: r.path}, nil
}

// redirect decides whether to follow a 3xx answer to r and returns the path (relative to base)
// to ask next. It follows only a redirect whose target is under base on the same origin
// (scheme, host and port): GitHub answers 301 for a renamed or transferred repository. Any other
// redirect is an error, so that a credential never leaves the API's origin or its TLS, and an
// answer from elsewhere is never taken for GitHub's.
func (c *Client) redirect(base string, r request, resp *response, done int) (string, error) {
	what := fmt.Sprintf("GitHub's API at %s answered %d to %s %s", base, resp.status, r.method, pathOnly(r.path))
	loc := strings.TrimSpace(resp.header.Get("Location"))
	switch resp.status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return "", fmt.Errorf("%s, which is not an answer the helper understands; is %s really GitHub's API?", what, base)
	}
	if loc == "" {
		return "", fmt.Errorf("%s without a Location; is %s really GitHub's API?", what, base)
	}
	// A redirect of a POST may be followed only by 307 and 308, which keep the method and body.
	if r.method != http.MethodGet && r.method != http.MethodHead &&
		resp.status != http.StatusTemporaryRedirect && resp.status != http.StatusPermanentRedirect {
		return "", fmt.Errorf("%s (a redirect that would drop the request body); not following it", what)
	}
	from, err := url.Parse(base + r.path)
	if err != nil {
		return "", fmt.Errorf("%s; cannot read the request URL", what)
	}
	to, err := from.Parse(loc)
	if err != nil {
		return "", fmt.Errorf("%s with a Location that is not a URL; not following it", what)
	}
	rel, ok := relativeTo(base, to.String())
	if !ok {
		return "", fmt.Errorf("%s with a redirect to %s, outside %s; not following it (credentials are only sent to %s)",
			what, origin(to), base, base)
	}
	if done >= maxRedirects {
		return "", fmt.Errorf("%s: more than %d redirects; giving up", what, maxRedirects)
	}
	return rel, nil
}

// origin renders a URL's scheme and host only, for messages (never its user, path or query).
func origin(u *url.URL) string {
	if u.Scheme == "" && u.Host == "" {
		return "another location"
	}
	return oneLine(u.Scheme+"://"+u.Host, 100)
}

// noteDate remembers GitHub's clock offset from a response's Date header.
func (c *Client) noteDate(h http.Header) {
	date, ok := serverDate(h)
	if !ok {
		return
	}
	off := date.Sub(c.now())
	c.mu.Lock()
	c.lastOffset, c.haveOffset = off, true
	c.mu.Unlock()
}

func serverDate(h http.Header) (time.Time, bool) {
	v := h.Get("Date")
	if v == "" {
		return time.Time{}, false
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

func describeOffset(off time.Duration) string {
	switch {
	case off >= time.Second:
		return humanDuration(off) + " ahead of"
	case off <= -time.Second:
		return humanDuration(-off) + " behind"
	default:
		return "within a second of"
	}
}

// apiError builds the *APIError for a non-2xx response, with secrets removed from its text.
func (c *Client) apiError(r request, resp *response) *APIError {
	e := &APIError{Method: r.method, Path: pathOnly(r.path), StatusCode: resp.status}
	var body struct {
		Message          string            `json:"message"`
		DocumentationURL string            `json:"documentation_url"`
		Errors           []json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(resp.body, &body) == nil {
		msg := body.Message
		for _, raw := range body.Errors {
			if d := describeValidationError(raw); d != "" {
				msg += "; " + d
			}
		}
		e.Message = msg
		e.DocumentationURL = body.DocumentationURL
	} else if len(bytes.TrimSpace(resp.body)) > 0 {
		e.Message = string(resp.body)
	}
	secrets := c.secrets(r)
	e.Message = oneLine(redactExact(e.Message, secrets...), 300)
	e.DocumentationURL = oneLine(redactExact(e.DocumentationURL, secrets...), 200)
	if ra, ok := parseRetryAfter(resp.header.Get("Retry-After"), resp.header); ok {
		e.RetryAfter = ra
	}
	return e
}

// describeValidationError renders one element of GitHub's "errors" array (a string, or an object
// with message/resource/field/code).
func describeValidationError(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		Message, Resource, Field, Code string
	}
	if json.Unmarshal(raw, &o) != nil {
		return ""
	}
	if o.Message != "" {
		return o.Message
	}
	var parts []string
	for _, p := range []string{o.Resource, o.Field, o.Code} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, " ")
}

// parseRetryAfter reads a Retry-After value: seconds, or an HTTP date (relative to the
// response's Date, else to now).
func parseRetryAfter(v string, h http.Header) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			secs = 0
		}
		if secs > 24*3600 {
			secs = 24 * 3600
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		ref, ok := serverDate(h)
		if !ok {
			ref = time.Now()
		}
		return max(t.Sub(ref), 0), true
	}
	return 0, false
}

// isClockSkewMessage reports whether a 401 message is about the JWT's iat or exp.
func isClockSkewMessage(msg string) bool {
	m := strings.ToLower(msg)
	for _, s := range []string{"'iat'", "'exp'", `"iat"`, `"exp"`, "issued at", "expiration time"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// isIssuerTypeMessage reports whether a 401 message says the JWT's iss must be an integer, as
// GitHub answers where a Client ID is not accepted as issuer ("'Issuer' claim ('iss') must be an
// Integer", quoted in actions/create-github-app-token#386 and ethersphere/bee-factory#294).
func isIssuerTypeMessage(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "'iss'") && strings.Contains(m, "integer")
}

// isNumericID reports whether an issuer is a numeric App ID (not a Client ID).
func isNumericID(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

// isRateLimited reports whether a response is a (primary or secondary) rate limit. Besides the
// headers, GitHub's wordings count: "rate limit" (primary, and "secondary rate limit" since
// 2021) and "You have triggered an abuse detection mechanism" (secondary limits before 2021,
// still answered by older GitHub Enterprise Server releases; docs: "Rate limits for the REST
// API").
func isRateLimited(resp *response, msg string) bool {
	if resp.status == http.StatusTooManyRequests {
		return true
	}
	if resp.status != http.StatusForbidden {
		return false
	}
	m := strings.ToLower(msg)
	return resp.header.Get("X-Ratelimit-Remaining") == "0" ||
		resp.header.Get("Retry-After") != "" ||
		strings.Contains(m, "rate limit") || strings.Contains(m, "abuse detection")
}

// rateLimitWait returns how long to wait on a rate-limit answer and the time (GitHub's) when it
// ends: Retry-After if given, else until x-ratelimit-reset when the limit is exhausted, else a
// minute as GitHub asks for secondary limits.
func (c *Client) rateLimitWait(resp *response) (time.Duration, time.Time) {
	serverNow, ok := serverDate(resp.header)
	if !ok {
		serverNow = c.now().Add(c.clockOffset())
	}
	wait := secondaryLimitWait
	if ra, ok := parseRetryAfter(resp.header.Get("Retry-After"), resp.header); ok {
		wait = ra
	} else if resp.header.Get("X-Ratelimit-Remaining") == "0" {
		if reset, err := strconv.ParseInt(strings.TrimSpace(resp.header.Get("X-Ratelimit-Reset")), 10, 64); err == nil {
			wait = max(time.Unix(reset, 0).Sub(serverNow), 0)
		}
	}
	return wait, serverNow.Add(wait)
}

// jitter returns a duration between d/2 and d.
func jitter(d time.Duration) time.Duration {
	half := d / 2
	return half + rand.N(half+1)
}

// pathOnly drops the query string from a request path.
func pathOnly(p string) string {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		return p[:i]
	}
	return p
}

// causeOf strips the *url.Error wrapper (which repeats the URL) from a transport error.
func causeOf(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

// isPermanentNetError reports transport errors that retrying cannot fix: an untrusted or
// mismatched certificate, a host name that does not exist.
func isPermanentNetError(err error) bool {
	var (
		verr *tls.CertificateVerificationError
		uerr x509.UnknownAuthorityError
		herr x509.HostnameError
		cerr x509.CertificateInvalidError
	)
	return errors.As(err, &verr) || errors.As(err, &uerr) || errors.As(err, &herr) || errors.As(err, &cerr) ||
		isNoSuchHost(err)
}

// decode unmarshals a response body into v.
func decode(r request, resp *response, v any) error {
	if err := json.Unmarshal(resp.body, v); err != nil {
		return fmt.Errorf("cannot read GitHub's answer to %s %s: %v", r.method, pathOnly(r.path), err)
	}
	return nil
}
