// Package credential speaks git's credential-helper protocol: it parses a request, applies the
// rules of which requests this helper serves, and writes the answer.
//
// The protocol (git-credential(1), "INPUT/OUTPUT FORMAT"): git runs the helper with an operation
// (get, store, erase) and writes key=value lines to its stdin, ended by a blank line or end of
// file. A value may not contain LF or NUL; this package also refuses CR anywhere in a line,
// as current git refuses to send one (credential.protectProtocol, CVE-2024-52006). For get,
// the helper answers with key=value lines on stdout and nothing else.
package credential

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// MaxLineLength is the longest line, in bytes without its newline, that ReadRequest accepts.
const MaxLineLength = 64 << 10

// maxRequestSize bounds everything ReadRequest consumes, terminating blank line included.
const maxRequestSize = 1 << 20

// readBufferSize is the read-ahead buffer of ReadRequest; lines longer than it are assembled.
const readBufferSize = 4 << 10

// Request is one credential description as git sends it. Fields that were not sent are empty.
type Request struct {
	Protocol, Host, Path, Username, Password string

	// PasswordExpiryUTC is password_expiry_utc as sent (git 2.41+), unparsed.
	PasswordExpiryUTC string

	// WWWAuth holds the wwwauth[] values in the order sent.
	WWWAuth []string

	// Capability holds the capability[] values in the order sent.
	Capability []string

	// Anything else git may send (oauth_refresh_token, state[], ephemeral, authtype,
	// credential, continue, ...) is accepted and ignored.
}

// seenFields records which fields a request named explicitly, so that a missing host
// can be told apart from an empty one (git sends host= with an empty value for cert prompts).
type seenFields struct {
	protocol, host bool
}

// ReadRequest reads key=value lines from r until a blank line or end of input and returns
// the request they describe. Keys are case-sensitive and a later line replaces an earlier
// one; an empty array entry (wwwauth[]= or capability[]=) clears that list, as in git.
// url= is expanded the way git's credential_from_url does it: the whole request is reset,
// then protocol, host (with its port, if any), path (without leading or trailing '/'),
// username and password are set from the URL, percent-decoded.
//
// ReadRequest reads in chunks, so it may consume input past the terminating blank line;
// whatever follows the blank line is never parsed.
//
// It returns an error, and no request, for: a line longer than MaxLineLength; a line
// without '='; an empty key; CR or NUL anywhere in a line; a url= value without a scheme,
// or one whose parts decode to LF, CR or NUL; a host that cannot be a host name (it
// contains '/', '@', '\', white space or a control character); input longer than 1 MiB;
// or a read error. Error text names the line and the key (for keys git defines) and the
// problem, but never repeats a value or an unknown key, since either may be a secret.
// ReadRequest does not panic and, whatever r yields, returns after at most about 1 MiB.
func ReadRequest(r io.Reader) (*Request, error) {
	req, _, err := readRequest(r)
	return req, err
}

func readRequest(r io.Reader) (*Request, seenFields, error) {
	var seen seenFields
	if r == nil {
		return nil, seen, errors.New("credential: no request to read")
	}
	lr := lineReader{br: bufio.NewReaderSize(r, readBufferSize)}
	req := &Request{}
	for {
		line, err := lr.next()
		if err == io.EOF {
			return req, seen, nil
		}
		if err != nil {
			return nil, seenFields{}, err
		}
		if len(line) == 0 {
			return req, seen, nil
		}
		if err := applyLine(req, &seen, lr.n, line); err != nil {
			return nil, seenFields{}, err
		}
	}
}

// applyLine checks one non-empty line and applies it to req.
func applyLine(req *Request, seen *seenFields, n int, line []byte) error {
	eq := bytes.IndexByte(line, '=')
	if eq < 0 {
		return &parseError{line: n, msg: "has no '='"}
	}
	if eq == 0 {
		return &parseError{line: n, msg: "has an empty key"}
	}
	key, value := line[:eq], line[eq+1:]
	name := knownKey(key)
	if i := bytes.IndexAny(key, "\r\x00"); i >= 0 {
		return &parseError{line: n, msg: "key contains " + describeByte(key[i])}
	}
	if i := bytes.IndexAny(value, "\r\x00"); i >= 0 {
		return &parseError{line: n, key: name, msg: "value contains " + describeByte(value[i])}
	}
	switch name {
	case "protocol":
		req.Protocol = string(value)
		seen.protocol = true
	case "host":
		if problem := hostProblem(string(value)); problem != "" {
			return &parseError{line: n, key: name, msg: "value is not a host name: it contains " + problem}
		}
		req.Host = string(value)
		seen.host = true
	case "path":
		req.Path = string(value)
	case "username":
		req.Username = string(value)
	case "password":
		req.Password = string(value)
	case "password_expiry_utc":
		req.PasswordExpiryUTC = string(value)
	case "wwwauth[]":
		req.WWWAuth = appendOrReset(req.WWWAuth, value)
	case "capability[]":
		req.Capability = appendOrReset(req.Capability, value)
	case "url":
		parsed, problem := parseURL(string(value))
		if problem != "" {
			return &parseError{line: n, key: name, msg: problem}
		}
		*req = *parsed
		seen.protocol, seen.host = true, true
	}
	return nil
}

// appendOrReset implements git's multi-valued attributes: an empty value clears the list.
func appendOrReset(list []string, value []byte) []string {
	if len(value) == 0 {
		return nil
	}
	return append(list, string(value))
}

// knownKeys are the keys git defines; only these are ever named in an error.
var knownKeys = []string{
	"protocol", "host", "path", "username", "password", "password_expiry_utc", "url",
	"wwwauth[]", "capability[]", "oauth_refresh_token", "state[]", "authtype", "credential",
	"ephemeral", "continue", "quit",
}

// knownKey returns the key's name if git defines it, else "".
func knownKey(key []byte) string {
	for _, k := range knownKeys {
		if string(key) == k {
			return k
		}
	}
	return ""
}

func describeByte(b byte) string {
	switch b {
	case '\r':
		return "a carriage return (CR)"
	case '\n':
		return "a line feed (LF)"
	case 0:
		return "a NUL byte"
	}
	return fmt.Sprintf("byte 0x%02x", b)
}

// hostProblem says what makes s implausible as a host (with optional port), or "" if
// nothing does. The empty host is allowed here: git sends host= for certificate prompts.
func hostProblem(s string) string {
	for _, r := range s {
		switch {
		case r == '/':
			return "'/'"
		case r == '@':
			return "'@'"
		case r == '\\':
			return "'\\'"
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			return "a control character"
		case unicode.IsSpace(r):
			return "white space"
		}
	}
	return ""
}

// parseError is a malformed request. It carries no input bytes except a key git defines.
type parseError struct {
	line int    // 1-based line number; 0 if the problem is not on one line
	key  string // a key from knownKeys, or "" when the key is unknown or unparsed
	msg  string
}

func (e *parseError) Error() string {
	var b strings.Builder
	b.WriteString("credential: malformed request")
	if e.line > 0 {
		fmt.Fprintf(&b, ": line %d", e.line)
		if e.key != "" {
			fmt.Fprintf(&b, " (%s)", e.key)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.msg)
	return b.String()
}

// lineReader yields lines of at most MaxLineLength bytes and stops after maxRequestSize bytes.
type lineReader struct {
	br    *bufio.Reader
	n     int    // number of the line last returned
	total int    // bytes consumed so far
	long  []byte // assembles a line longer than the read buffer
	eof   bool
}

// next returns the next line without its '\n'; the slice is valid until the next call.
// At the end of input it returns io.EOF; a last line without '\n' is returned first.
func (lr *lineReader) next() ([]byte, error) {
	if lr.eof {
		return nil, io.EOF
	}
	lr.n++
	lr.long = lr.long[:0]
	for {
		frag, err := lr.br.ReadSlice('\n')
		lr.total += len(frag)
		if lr.total > maxRequestSize {
			return nil, &parseError{msg: fmt.Sprintf("request is larger than %d bytes", maxRequestSize)}
		}
		var line []byte
		switch {
		case err == nil:
			frag = frag[:len(frag)-1]
			if len(lr.long) == 0 {
				line = frag
			} else {
				lr.long = append(lr.long, frag...)
				line = lr.long
			}
		case errors.Is(err, bufio.ErrBufferFull):
			lr.long = append(lr.long, frag...)
			if len(lr.long) > MaxLineLength {
				return nil, lr.tooLong(lr.long)
			}
			continue
		case errors.Is(err, io.EOF):
			lr.eof = true
			lr.long = append(lr.long, frag...)
			if len(lr.long) == 0 {
				return nil, io.EOF
			}
			line = lr.long
		default:
			return nil, fmt.Errorf("credential: reading the request: %w", err)
		}
		if len(line) > MaxLineLength {
			return nil, lr.tooLong(line)
		}
		return line, nil
	}
}

func (lr *lineReader) tooLong(prefix []byte) error {
	e := &parseError{line: lr.n, msg: fmt.Sprintf("line is longer than %d bytes", MaxLineLength)}
	if eq := bytes.IndexByte(prefix, '='); eq > 0 {
		e.key = knownKey(prefix[:eq])
	}
	return e
}

// parseURL expands a url= value the way git's credential_from_url does: it needs
// "proto://"; userinfo is the part before the first '@' if that '@' comes before the first
// '/', '?' or '#'; the username ends at the first ':' if that ':' comes before the '@';
// the host runs to the first '/', '?' or '#'; the path is the rest with leading '/' removed
// and, after decoding, trailing '/' removed. Username, password, host and path are
// percent-decoded (a '%' not followed by two hex digits stays as it is). On failure it
// returns a description of the problem that does not repeat any part of the URL.
func parseURL(raw string) (*Request, string) {
	end := strings.Index(raw, "://")
	if end <= 0 {
		return nil, "url has no scheme (want proto://host/...)"
	}
	req := &Request{Protocol: raw[:end]}
	rest := raw[end+3:]
	slash := strings.IndexAny(rest, "/?#")
	if slash < 0 {
		slash = len(rest)
	}
	at := strings.IndexByte(rest, '@')
	colon := strings.IndexByte(rest, ':')
	hostStart := 0
	switch {
	case at < 0 || slash <= at:
		// proto://host/...
	case colon < 0 || at <= colon:
		// proto://user@host/...
		req.Username = percentDecode(rest[:at])
		hostStart = at + 1
	default:
		// proto://user:password@host/...
		req.Username = percentDecode(rest[:colon])
		req.Password = percentDecode(rest[colon+1 : at])
		hostStart = at + 1
	}
	req.Host = percentDecode(rest[hostStart:slash])
	if p := strings.TrimLeft(rest[slash:], "/"); p != "" {
		p = percentDecode(p)
		for len(p) > 1 && p[len(p)-1] == '/' {
			p = p[:len(p)-1]
		}
		req.Path = p
	}
	for _, part := range []struct{ name, value string }{
		{"protocol", req.Protocol}, {"username", req.Username}, {"password", req.Password},
		{"host", req.Host}, {"path", req.Path},
	} {
		if i := strings.IndexAny(part.value, "\n\r\x00"); i >= 0 {
			return nil, "url's " + part.name + " contains " + describeByte(part.value[i])
		}
	}
	if problem := hostProblem(req.Host); problem != "" {
		return nil, "url's host is not a host name: it contains " + problem
	}
	return req, ""
}

// percentDecode decodes %XX sequences; a '%' without two hex digits after it is kept.
// Unlike git, %00 decodes to NUL (which the caller then refuses) instead of staying "%00".
func percentDecode(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if ok1 && ok2 {
				b = append(b, hi<<4|lo)
				i += 2
				continue
			}
		}
		b = append(b, s[i])
	}
	return string(b)
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
