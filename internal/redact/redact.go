// Package redact keeps secrets out of what the program prints: it recognises private keys,
// JWTs, GitHub tokens and Authorization values, and quotes values given by people or git so that
// an error message can repeat them safely. It links nothing heavy (no network, no TLS), so the
// front that git starts for every request can use it too.
package redact

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Secrets returns s with anything that looks like a secret (a PEM private key, a JWT, a GitHub
// token, an Authorization value) replaced by a placeholder: the last guard on every line the
// program prints. It guards text that comes from outside (GitHub's messages, proxy pages,
// transport errors).
//
// Each kind is found by a hand-written scanner that matches exactly what this regular
// expression matches, in this order (the tests hold them to it, with the regexp package as the
// oracle; the scanners keep regexp and its Unicode tables out of the front that git starts for
// every request):
//
//	(?s)-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----.*?(-----END[A-Z0-9 ]*PRIVATE KEY-----|$)  -> [redacted key]
//	(?i)\b(bearer|token|basic)\s+[A-Za-z0-9_.~+/=-]{20,}                               -> $1 [redacted]
//	eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*                                   -> [redacted JWT]
//	\b(gh[pousr]|github_pat)_[A-Za-z0-9_.-]{10,}                                        -> [redacted token]
func Secrets(s string) string {
	s = replaceAll(s, nextKey, func(string) string { return "[redacted key]" })
	s = replaceAll(s, nextAuthorization, func(m string) string { return m[:authKeywordLen(m)] + " [redacted]" })
	s = replaceAll(s, nextJWT, func(string) string { return "[redacted JWT]" })
	s = replaceAll(s, nextToken, func(string) string { return "[redacted token]" })
	return s
}

// replaceAll replaces every match that next finds (the leftmost at or after from, as [i, j);
// i < 0 when there is none; never empty) by with(match), left to right, without overlaps: the
// search goes on where a match ends, as regexp's ReplaceAllString does.
func replaceAll(s string, next func(s string, from int) (i, j int), with func(match string) string) string {
	var b strings.Builder
	done := 0
	for {
		i, j := next(s, done)
		if i < 0 {
			break
		}
		b.WriteString(s[done:i])
		b.WriteString(with(s[i:j]))
		done = j
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// isWord reports whether c is a word character as regexp's \b sees it: ASCII only.
func isWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// boundary reports whether \b holds before s[i], which is a word character.
func boundary(s string, i int) bool { return i == 0 || !isWord(s[i-1]) }

// span returns the end of the run of bytes in s from i that in accepts.
func span(s string, i int, in func(c byte) bool) int {
	for i < len(s) && in(s[i]) {
		i++
	}
	return i
}

func isArmourChar(c byte) bool { return c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ' ' }

// armour reports whether s[i:] starts with a PEM private key line's marker (what follows
// "-----BEGIN" or "-----END": [A-Z0-9 ]*PRIVATE KEY-----), and where it ends.
func armour(s string, i int) (int, bool) {
	r := span(s, i, isArmourChar) // "PRIVATE KEY" is all armour characters, '-' is none
	if !strings.HasSuffix(s[i:r], "PRIVATE KEY") || !strings.HasPrefix(s[r:], "-----") {
		return 0, false
	}
	return r + len("-----"), true
}

// nextKey finds a PEM private key: its BEGIN line up to its END line, or to the end of s.
func nextKey(s string, from int) (int, int) {
	for {
		k := strings.Index(s[from:], "-----BEGIN")
		if k < 0 {
			return -1, -1
		}
		k += from
		if body, ok := armour(s, k+len("-----BEGIN")); ok {
			for q := body; ; q++ {
				e := strings.Index(s[q:], "-----END")
				if e < 0 {
					return k, len(s)
				}
				q += e
				if end, ok := armour(s, q+len("-----END")); ok {
					return k, end
				}
			}
		}
		from = k + 1
	}
}

// authKeywords are the Authorization schemes whose value is a secret; matched ignoring case as
// regexp's (?i) does, under which k also matches the Kelvin sign and s the long s.
var authKeywords = []string{"bearer", "token", "basic"}

// foldedRune reports whether r is c (a lower-case ASCII letter or another ASCII character) under
// Unicode simple case folding.
func foldedRune(r rune, c byte) bool {
	switch {
	case r == rune(c):
		return true
	case c >= 'a' && c <= 'z' && r == rune(c-'a'+'A'):
		return true
	case c == 'k':
		return r == '\u212a' // KELVIN SIGN
	case c == 's':
		return r == '\u017f' // LATIN SMALL LETTER LONG S
	}
	return false
}

// keywordAt returns where an Authorization keyword at s[i:] ends.
func keywordAt(s string, i int) (int, bool) {
next:
	for _, kw := range authKeywords {
		j := i
		for k := 0; k < len(kw); k++ {
			r, n := utf8.DecodeRuneInString(s[j:])
			if n == 0 || !foldedRune(r, kw[k]) {
				continue next
			}
			j += n
		}
		return j, true
	}
	return 0, false
}

// authKeywordLen returns the length of the keyword a match of nextAuthorization starts with.
func authKeywordLen(m string) int {
	j, _ := keywordAt(m, 0)
	return j
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' }

// isCredentialRune reports whether r is in [A-Za-z0-9_.~+/=-] under (?i).
func isCredentialRune(r rune) bool {
	switch {
	case r < utf8.RuneSelf:
		c := byte(r)
		return isWord(c) || strings.IndexByte(".~+/=-", c) >= 0
	case r == '\u212a', r == '\u017f': // fold to K and S
		return true
	}
	return false
}

// nextAuthorization finds "Bearer X", "token X" or "Basic X" with X at least 20 characters of a
// token alphabet, the keyword starting a word.
func nextAuthorization(s string, from int) (int, int) {
	for i := from; i < len(s); i++ {
		switch s[i] {
		case 'b', 'B', 't', 'T':
		default:
			continue
		}
		if !boundary(s, i) {
			continue
		}
		j, ok := keywordAt(s, i)
		if !ok {
			continue
		}
		v := span(s, j, isSpace)
		if v == j {
			continue
		}
		end, n := v, 0
		for end < len(s) {
			r, size := utf8.DecodeRuneInString(s[end:])
			if !isCredentialRune(r) {
				break
			}
			end += size
			n++
		}
		if n >= 20 {
			return i, end
		}
	}
	return -1, -1
}

func isJWTChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// nextJWT finds a JWT: eyJ (a JSON object's start in base64url), three base64url parts.
func nextJWT(s string, from int) (int, int) {
	for {
		k := strings.Index(s[from:], "eyJ")
		if k < 0 {
			return -1, -1
		}
		k += from
		dot1 := span(s, k+len("eyJ"), isJWTChar)
		if dot1 < len(s) && s[dot1] == '.' {
			dot2 := span(s, dot1+1, isJWTChar)
			if dot2 > dot1+1 && dot2 < len(s) && s[dot2] == '.' {
				return k, span(s, dot2+1, isJWTChar)
			}
		}
		// An eyJ further on in the same run ends the run at the same place, and fails the same
		// way: look from the run's end (which keeps the scan linear).
		from = dot1
	}
}

func isTokenChar(c byte) bool { return isWord(c) || c == '.' || c == '-' }

// nextToken finds a GitHub token: gh[pousr]_ or github_pat_ starting a word, then at least 10
// characters of a token's alphabet.
func nextToken(s string, from int) (int, int) {
	for {
		k := strings.IndexByte(s[from:], 'g')
		if k < 0 {
			return -1, -1
		}
		k += from
		if boundary(s, k) {
			rest, prefix := s[k:], 0
			switch {
			case len(rest) >= 4 && rest[1] == 'h' && strings.IndexByte("pousr", rest[2]) >= 0 && rest[3] == '_':
				prefix = 4
			case strings.HasPrefix(rest, "github_pat_"):
				prefix = len("github_pat_")
			}
			if prefix > 0 {
				if end := span(s, k+prefix, isTokenChar); end-(k+prefix) >= 10 {
					return k, end
				}
			}
		}
		from = k + 1
	}
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
		if base64Run(s) {
			return true
		}
	}
	return Secrets(s) != s
}

// base64Run reports whether s, with white space and literal `\n` escapes left out, is written
// in one base64 alphabet (standard or URL-safe, '=' padding only at its end). It decides less
// than decoding would (a wrong length passes), which only errs on the side of not showing s; it
// spares the front, which quotes flags through LooksLikeKey, the start-up of encoding/base64.
func base64Run(s string) bool {
	var std, url, pad bool
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			continue
		case c == '\\' && i+1 < len(s) && s[i+1] == 'n':
			i++
			continue
		case c == '=':
			pad = true
			continue
		case pad: // anything after padding
			return false
		case c == '+' || c == '/':
			std = true
		case c == '-' || c == '_':
			url = true
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		default:
			return false
		}
		n++
	}
	return n > 0 && !(std && url)
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
		s = hideUserinfo(s, i)
	}
	if r := []rune(s); len(r) > 100 {
		s = string(r[:100]) + "..."
	}
	return fmt.Sprintf("%q", s)
}

// hideUserinfo hides the password of the URL s, whose scheme ends at i (at "://"), and its user
// name too when that is longer than any GitHub login (it may be a token). A URL of the plain
// form scheme://[user[:password]@]host[:port][/path], written with letters, digits and -._~/:
// only, is shown as net/url would print it (user:xxxxx@host/path); any other URL with an @ after
// its scheme loses everything before its last @ but its scheme. (net/url is not used: it would be linked
// into the front that git starts for every request, with its package initialisation.)
func hideUserinfo(s string, i int) string {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return s // no user information anywhere
	}
	// Hidden, the string keeps what follows its last @, and its scheme when that is all
	// letters: net/url may read a user from anything else ("//me:pw@host/x://y@z").
	hidden := "xxxxx" + s[at:]
	if at > i && letters(s[:i]) {
		hidden = s[:i+3] + hidden
	}
	if at < i || !plainURL(s, i) {
		return hidden
	}
	rest := s[i+3:]
	authority := rest
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		authority = rest[:j]
	}
	a := strings.LastIndexByte(authority, '@')
	if !plainHost(authority[a+1:]) {
		return hidden // not a URL net/url reads: hide as much as it could be
	}
	if a < 0 {
		return s // the @ is in the path: no user information
	}
	name, _, hasPassword := strings.Cut(authority[:a], ":")
	if len(name) > 39 {
		name = "xxxxx"
	} else {
		name = strings.ReplaceAll(name, "@", "%40") // as net/url escapes it
	}
	if hasPassword {
		name += ":xxxxx"
	}
	return s[:i+3] + name + s[i+3+a:]
}

// plainURL reports whether s, with "://" at i, is written with a lower-case scheme and
// otherwise only letters, digits and -._~/:@, which net/url reads without any unescaping.
func plainURL(s string, i int) bool {
	if i == 0 {
		return false
	}
	for k := 0; k < len(s); k++ {
		c := s[k]
		switch {
		case k < i:
			if c < 'a' || c > 'z' {
				return false
			}
		case isWord(c) && c != '_', strings.IndexByte("-._~/:@", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// plainHost reports whether net/url reads the plain host h (no @, no /): at most one colon,
// followed by digits only (the port).
func plainHost(h string) bool {
	_, port, found := strings.Cut(h, ":")
	if !found {
		return true
	}
	for k := 0; k < len(port); k++ {
		if port[k] < '0' || port[k] > '9' {
			return false
		}
	}
	return true
}

// letters reports whether s is a non-empty run of ASCII letters.
func letters(s string) bool {
	for k := 0; k < len(s); k++ {
		if c := s[k] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return s != ""
}
