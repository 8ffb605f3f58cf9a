package appauth

import (
	"context"
	"errors"
	"fmt"
	redaction "github.com/git-credential-ghapp/git-credential-ghapp/internal/redact"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// APIError is an answer from GitHub's REST API with a status that is not a success. Errors the
// Client returns often wrap an *APIError under a clearer sentence; errors.As finds it.
type APIError struct {
	// Method and Path are the request's (the path without the query string).
	Method, Path string
	// StatusCode is the HTTP status GitHub answered.
	StatusCode int
	// Message and DocumentationURL are from GitHub's JSON error body, with any secret removed.
	Message, DocumentationURL string
	// RetryAfter is how long GitHub asked to wait before retrying, when known (rate limits).
	RetryAfter time.Duration
}

// Error returns "GitHub answered STATUS to METHOD PATH: MESSAGE". It contains no secret.
func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	return fmt.Sprintf("GitHub answered %d to %s %s: %s", e.StatusCode, e.Method, e.Path, msg)
}

// IsNotFound reports whether err is or wraps an *APIError with status 404.
func IsNotFound(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.StatusCode == http.StatusNotFound
}

// ErrNoInstallations is wrapped by FindInstallation's error when the app has no installation.
var ErrNoInstallations = errors.New("the app has no installations")

// ErrSeveralInstallations is wrapped by FindInstallation's error when the request names no
// account and the app has more than one installation.
var ErrSeveralInstallations = errors.New("the app has several installations")

// explained is an error whose text is a sentence for people and that wraps the error it explains
// (usually an *APIError), so errors.As and errors.Is still see the cause.
type explained struct {
	msg string
	err error
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.err }

func explain(err error, format string, args ...any) error {
	return &explained{msg: fmt.Sprintf(format, args...), err: err}
}

// NetworkError is returned when GitHub could not be reached (DNS, TCP, TLS, proxy, a dropped
// connection or the deadline running out), after retries when retrying made sense.
type NetworkError struct {
	// BaseURL is the REST base that was tried.
	BaseURL string
	// Err is the cause, e.g. a *tls.CertificateVerificationError or context.DeadlineExceeded.
	Err error
}

// Error returns "cannot reach GitHub at BASEURL: CAUSE; check the network, HTTPS_PROXY and
// SSL_CERT_FILE". It contains no secret.
func (e *NetworkError) Error() string {
	cause := redact(e.Err.Error())
	var dnsErr *net.DNSError
	if errors.As(e.Err, &dnsErr) && dnsErr.IsNotFound {
		return fmt.Sprintf("cannot reach GitHub at %s: the host name %s does not exist (DNS); check --hostname (or --api-url)", e.BaseURL, dnsErr.Name)
	}
	if errors.Is(e.Err, context.DeadlineExceeded) {
		cause = "no answer before the time limit ran out (" + cause + ")"
	}
	return fmt.Sprintf("cannot reach GitHub at %s: %s; check the network, HTTPS_PROXY and SSL_CERT_FILE", e.BaseURL, cause)
}

// Unwrap returns the cause.
func (e *NetworkError) Unwrap() error { return e.Err }

// redact removes anything that looks like a secret from s.
func redact(s string) string { return redaction.Secrets(s) }

// redactExact removes the given secrets (exact strings) and then anything that looks like one.
func redactExact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) >= 8 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return redact(s)
}

// oneLine makes s fit on one line of a terminal: control characters become spaces and it is cut
// to max runes.
func oneLine(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "..."
	}
	return s
}

// humanDuration renders d for people: "45s", "3m20s", "12m", "1h5m".
func humanDuration(d time.Duration) string {
	if d < time.Second {
		return "less than a second"
	}
	switch {
	case d >= time.Hour:
		d = d.Round(time.Minute)
	case d >= 10*time.Minute:
		d = d.Round(time.Minute)
	default:
		d = d.Round(time.Second)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// isNoSuchHost reports a DNS answer that the name does not exist (NXDOMAIN), which retrying
// does not change; a resolver that timed out or failed is not that.
func isNoSuchHost(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && dnsErr.IsNotFound
}

// notifyRetry tells OnRetry, on the first retry of a call only, why and for how long it retries.
func (c *Client) notifyRetry(ctx context.Context, attempt int, cause string) {
	if c.OnRetry == nil || attempt != 1 {
		return
	}
	limit := "a few more tries"
	if left, ok := c.remaining(ctx); ok {
		limit = "up to " + humanDuration(left)
	}
	c.OnRetry(fmt.Sprintf("GitHub did not answer (%s); retrying for %s", oneLine(redact(cause), 200), limit))
}

// jwtRejectedHint names the likely cause of a 401 to the app's JWT from GitHub's message:
// "Integration not found" means no app has that id (octokit/authentication-strategies.js#165,
// actions/create-github-app-token#76); "A JSON web token could not be decoded" means the
// signature does not verify with the key of the app the id names (octokit/auth-app.js#375), so
// either the key or the id is another app's.
func jwtRejectedHint(msg, issuer string) string {
	switch {
	case strings.Contains(strings.ToLower(msg), "integration not found"):
		return fmt.Sprintf("GitHub has no app with id %s: check --app-id (the App ID, or Client ID, on the app's settings page)", issuer)
	case strings.Contains(strings.ToLower(msg), "could not be decoded"):
		return fmt.Sprintf("the key does not sign for app %s: check that --app-id is this app's and the key is the app's private key", issuer)
	}
	return fmt.Sprintf("check --app-id (%s) and that the key is this app's private key", issuer)
}

// SeveralInstallationsError is FindInstallation's error when the request names no account and
// the app has several installations. errors.Is(err, ErrSeveralInstallations) holds for it. Its
// text is for git's requests (make git send the repository's path); a command that is not run
// by git says its own fix with Accounts.
type SeveralInstallationsError struct {
	// Accounts are the installations' account logins, sorted.
	Accounts []string
	// Host is the git host the API serves (e.g. "github.com"), "" when unknown.
	Host string
}

// Error names the accounts and says to set useHttpPath for the host, or to pass --owner.
func (e *SeveralInstallationsError) Error() string {
	key := "credential.useHttpPath"
	if e.Host != "" {
		key = "credential.https://" + e.Host + ".useHttpPath"
	}
	return fmt.Sprintf("the GitHub App is installed on %d accounts (%s) and the request names none: run `git config --global %s true` "+
		"so git passes the repository path, or pass --owner", len(e.Accounts), e.AccountList(), key)
}

// Is makes errors.Is(err, ErrSeveralInstallations) true.
func (e *SeveralInstallationsError) Is(target error) bool { return target == ErrSeveralInstallations }

// AccountList is the accounts for a message: the first ten, then "and N more".
func (e *SeveralInstallationsError) AccountList() string {
	shown := e.Accounts
	if len(shown) > 10 {
		shown = append(shown[:10:10], fmt.Sprintf("and %d more", len(e.Accounts)-10))
	}
	return strings.Join(shown, ", ")
}

// hostOfAPI is the git host whose REST API base is base (the inverse of APIBaseURL), "" when
// base is none of the forms APIBaseURL makes.
func hostOfAPI(base string) string {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return ""
	}
	switch h := strings.ToLower(u.Host); {
	case h == "api.github.com":
		return "github.com"
	case strings.HasPrefix(h, "api.") && strings.HasSuffix(h, ".ghe.com"):
		return strings.TrimPrefix(h, "api.")
	case strings.TrimSuffix(u.Path, "/") == "/api/v3":
		return h
	}
	return ""
}

// Shown returns a value given by a person or git as an error message may quote it; see
// redact.Shown. Every error that repeats such a value goes through it.
func Shown(s string) string { return redaction.Shown(s) }

// Redact returns s with anything that looks like a secret (a PEM private key, a JWT, a GitHub
// token, an Authorization value) replaced by a placeholder: the last guard on every line the
// program prints.
func Redact(s string) string { return redact(s) }
