package credential

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// TokenUsername is the username that goes with an installation access token. A request
// that names any other username belongs to someone else and is not served.
const TokenUsername = "x-access-token"

// Helper is what serves the requests that pass Handler's rules.
type Helper interface {
	// Get returns the credential for req, or (nil, nil) if it has none ("not mine").
	// An error's text is shown to the user as one line; it must hold no secret.
	Get(ctx context.Context, req *Request) (*Credential, error)

	// Erase forgets req.Password if this helper handed it out (never revokes it).
	// It is called only for served requests with a non-empty password.
	Erase(ctx context.Context, req *Request) error
}

// Handler applies SPEC.md's rules for one configured host and passes the requests it
// serves to Helper.
type Handler struct {
	Host   string // the host served, e.g. "github.com" or "ghe.example.com:8443"
	Helper Helper

	// Ignored, when set, is told in one line why a get or erase request is not served (another
	// protocol, host or username), for GHAPP_TRACE. The line holds no secret.
	Ignored func(reason string)
}

// Handle runs one operation of the helper protocol, reading the request from in and
// writing only protocol lines to out.
//
//   - "get": if the request is served (see Serves), asks Helper.Get and writes its
//     credential with Credential.Write. Nothing is written when the request is not
//     served, when Get returns nil, or when anything fails.
//   - "erase": if the request is served and carries a password, calls Helper.Erase.
//   - "store": reads and discards the request (bounded, errors ignored); returns nil.
//   - anything else: returns nil without reading in.
//
// For get and erase, a malformed request is an error: whatever ReadRequest rejects, a
// request without protocol or without host, or an https request whose host is empty.
// A request for another protocol (e.g. git's protocol=cert with an empty host) or another
// host is not served: nil error, nothing written, Helper not called. Handle also fails when
// h.Host is not a host name or h.Helper is nil and a request would be served.
//
// A returned error is one line of text for stderr, without a trailing newline. Handle's
// own errors never hold a value from the request or the credential. Errors from Helper
// are passed on (still reachable with errors.Is and errors.As) with control characters
// in their text replaced by spaces; keeping secrets out of them is the Helper's job.
func (h *Handler) Handle(ctx context.Context, op string, in io.Reader, out io.Writer) error {
	switch op {
	case "get", "erase":
	case "store":
		_, _, _ = readRequest(in)
		return nil
	default:
		return nil
	}
	if h == nil {
		return errors.New("credential: no handler is configured")
	}
	if _, ok := normalizeHost(h.Host); !ok {
		return fmt.Errorf("credential: the configured host %q is not a host name", h.Host)
	}
	req, seen, err := readRequest(in)
	if err != nil {
		return err
	}
	switch {
	case !seen.protocol || req.Protocol == "":
		return &parseError{msg: "request has no protocol"}
	case !seen.host:
		return &parseError{msg: "request has no host"}
	case req.Protocol != "https":
		return h.ignore(req)
	case req.Host == "":
		return &parseError{msg: "https request has an empty host"}
	case !h.Serves(req):
		return h.ignore(req)
	case h.Helper == nil:
		return errors.New("credential: no helper is configured to serve the request")
	}

	if op == "erase" {
		if req.Password == "" {
			return nil
		}
		if err := h.Helper.Erase(ctx, req); err != nil {
			return oneLine(err)
		}
		return nil
	}
	c, err := h.Helper.Get(ctx, req)
	if err != nil {
		return oneLine(err)
	}
	if c == nil {
		return nil
	}
	return c.Write(out)
}

// Serves reports whether req is for this handler: protocol is exactly "https"; the host
// equals h.Host, compared ignoring ASCII case, with an explicit ":443" on either side
// taken as the default port and any other port difference meaning a different host; and
// the username is empty or TokenUsername. It is false for a nil handler or request and
// when either host is empty or not a host name.
func (h *Handler) Serves(req *Request) bool {
	if h == nil || req == nil || req.Protocol != "https" {
		return false
	}
	if req.Username != "" && req.Username != TokenUsername {
		return false
	}
	want, ok := normalizeHost(h.Host)
	if !ok {
		return false
	}
	got, ok := normalizeHost(req.Host)
	return ok && got == want
}

// normalizeHost lower-cases ASCII letters and drops an explicit default port ":443".
// It reports false for an empty or implausible host.
func normalizeHost(host string) (string, bool) {
	if host == "" || hostProblem(host) != "" {
		return "", false
	}
	host = lowerASCII(host)
	if base, ok := strings.CutSuffix(host, ":443"); ok && base != "" {
		// "[v6]:443" or "name:443"; an unbracketed name with another ':' is left alone.
		if !strings.Contains(base, ":") || (strings.HasPrefix(base, "[") && strings.HasSuffix(base, "]")) {
			host = base
		}
	}
	return host, true
}

// lowerASCII lower-cases A-Z only, so that no Unicode case folding (e.g. KELVIN SIGN to
// 'k') can make two different hosts compare equal.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// oneLine keeps err reachable but makes its text a single line.
func oneLine(err error) error {
	return lineError{err}
}

type lineError struct{ err error }

func (e lineError) Unwrap() error { return e.err }

func (e lineError) Error() string {
	var b strings.Builder
	space := false
	for _, r := range e.err.Error() {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == '\u2028' || r == '\u2029' {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return "credential: the helper failed without saying why"
	}
	return b.String()
}

// RequestFromURL turns an argument of the token command into a request. It accepts
//
//   - a URL "proto://[user[:password]@]host[:port][/path]", parsed exactly like url= in
//     ReadRequest (the protocol is kept as given; Serves decides whether it is served);
//   - "OWNER/REPO" (Protocol "https", Path "OWNER/REPO", Host empty: the caller fills in
//     the configured host);
//   - "HOST/OWNER/REPO" where HOST contains '.' or ':' (e.g. "github.com/acme/app"),
//     with Protocol "https".
//
// A trailing '/' is ignored. OWNER may hold only ASCII letters, digits, '-' and '_' (so a
// host name is never taken for an owner), REPO also '.', and neither may be "." or "..". Anything else, a URL without a host, or one that
// ReadRequest would reject, is an error whose text does not repeat the argument.
func RequestFromURL(rawURL string) (*Request, error) {
	if rawURL == "" {
		return nil, errors.New("credential: empty repository argument; want OWNER/REPO or an https:// URL")
	}
	for i := 0; i < len(rawURL); i++ {
		if c := rawURL[i]; c < 0x20 || c == 0x7f {
			return nil, errors.New("credential: the repository argument contains a control character")
		}
	}
	if len(rawURL) > MaxLineLength {
		return nil, errors.New("credential: the repository argument is too long")
	}
	if strings.Contains(rawURL, "://") {
		req, problem := parseURL(rawURL)
		if problem != "" {
			return nil, errors.New("credential: bad repository URL: " + problem)
		}
		if req.Host == "" {
			return nil, errors.New("credential: bad repository URL: it has no host")
		}
		return req, nil
	}
	parts := strings.Split(strings.TrimSuffix(rawURL, "/"), "/")
	req := &Request{Protocol: "https"}
	switch {
	case len(parts) == 3 && strings.ContainsAny(parts[0], ".:"):
		if hostProblem(parts[0]) != "" {
			return nil, errors.New("credential: the host in the repository argument is not a host name")
		}
		req.Host = parts[0]
		parts = parts[1:]
	case len(parts) != 2:
		return nil, errors.New("credential: want OWNER/REPO, HOST/OWNER/REPO or an https:// URL")
	}
	if !validName(parts[0], "-_") || !validName(parts[1], "-_.") {
		return nil, errors.New("credential: OWNER may hold only letters, digits, '-' and '_', REPO also '.'")
	}
	req.Path = parts[0] + "/" + parts[1]
	return req, nil
}

// validName reports whether s is a non-empty name of ASCII letters, digits and the bytes
// in extra, other than "." and "..".
func validName(s, extra string) bool {
	if s == "" || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(extra, c) >= 0) {
			return false
		}
	}
	return true
}
