// Package redact keeps secrets out of what the program prints: it recognises private keys,
// JWTs, GitHub tokens and Authorization values, and quotes values given by people or git so that
// an error message can repeat them safely. It links nothing heavy (no network, no TLS), so the
// front that git starts for every request can use it too.
package redact

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
)

// patterns match things that must never be shown: JWTs, GitHub tokens, Authorization values and
// PEM private keys. They guard text that comes from outside (GitHub's messages, proxy pages,
// transport errors). They are compiled on first use, so a cached get does not pay for them.
var patterns = sync.OnceValue(func() []pattern {
	return []pattern{
		{regexp.MustCompile(`(?s)-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----.*?(-----END[A-Z0-9 ]*PRIVATE KEY-----|$)`), "[redacted key]"},
		{regexp.MustCompile(`(?i)\b(bearer|token|basic)\s+[A-Za-z0-9_.~+/=-]{20,}`), "$1 [redacted]"},
		{regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`), "[redacted JWT]"},
		{regexp.MustCompile(`\b(gh[pousr]|github_pat)_[A-Za-z0-9_.-]{10,}`), "[redacted token]"},
	}
})

type pattern struct {
	re   *regexp.Regexp
	with string
}

// Secrets returns s with anything that looks like a secret (a PEM private key, a JWT, a GitHub
// token, an Authorization value) replaced by a placeholder: the last guard on every line the
// program prints.
func Secrets(s string) string {
	for _, p := range patterns() {
		s = p.re.ReplaceAllString(s, p.with)
	}
	return s
}

// LooksLikeKey reports whether s, given where a path or a name belongs, looks like a private key
// (or a token, or a JWT) rather than a path: it holds a PEM armour line or a line break, is a
// long run of base64, or matches what Secrets removes. Callers must then never print s. (A
// literal `\n` is not enough: Windows paths such as C:\new\app.pem hold one.)
func LooksLikeKey(s string) bool {
	if strings.Contains(s, "-----BEGIN") || strings.Contains(s, "-----END") || strings.Contains(s, "PRIVATE KEY-----") ||
		strings.ContainsAny(s, "\n\r") {
		return true
	}
	if len(s) >= 256 && !strings.ContainsAny(s, " \\") {
		if _, ok := DecodeBase64(s); ok {
			return true
		}
	}
	return Secrets(s) != s
}

// DecodeBase64 decodes s in any of the four base64 alphabets, ignoring white space and literal
// `\n` escapes; ok is false when s is none of them.
func DecodeBase64(s string) ([]byte, bool) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
	s = strings.ReplaceAll(s, `\n`, "")
	if s == "" {
		return nil, false
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) > 0 {
			return b, true
		}
	}
	return nil, false
}

// Shown returns a value given by a person or git (a flag, an environment variable, a path, a
// URL) as an error message may quote it: %q-quoted and cut to 100 characters, except that a
// value that looks like a private key or a token (LooksLikeKey) is not shown at all, and a URL's
// password is replaced by "xxxxx". Every error that repeats such a value goes through it.
func Shown(s string) string {
	if LooksLikeKey(s) {
		return "(a value that looks like a private key or a token: not shown)"
	}
	if i := strings.Index(s, "://"); i >= 0 {
		if u, err := url.Parse(s); err == nil && u.User != nil {
			name := u.User.Username()
			if len(name) > 39 { // longer than any GitHub login: it may be a token
				name = "xxxxx"
			}
			if _, has := u.User.Password(); has {
				u.User = url.UserPassword(name, "xxxxx")
			} else {
				u.User = url.User(name)
			}
			s = u.String()
		} else if at := strings.LastIndex(s, "@"); err != nil && at > i {
			s = s[:i+3] + "xxxxx" + s[at:] // unparsable: hide whatever comes before the @
		}
	}
	if r := []rune(s); len(r) > 100 {
		s = string(r[:100]) + "..."
	}
	return fmt.Sprintf("%q", s)
}
