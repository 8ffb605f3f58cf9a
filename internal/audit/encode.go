package audit

import (
	"slices"
	"strconv"
	"unicode/utf8"
)

// marshal renders rec as one JSON object, fields in the order of line's declaration, with what
// encoding/json would omit (the omitempty fields) left out. It is written by hand so that the
// front, which records every cache hit, does not link encoding/json and its reflection; the
// tests check that encoding/json decodes every line to what it would have encoded itself.
func (rec *line) marshal() []byte {
	b := make([]byte, 0, 512)
	b = append(b, '{')
	b = appendField(b, "time", true)
	b = appendString(b, rec.Time)
	b = appendField(b, "event", false)
	b = appendString(b, rec.Event)
	if rec.Outcome != "" {
		b = appendField(b, "outcome", false)
		b = appendString(b, rec.Outcome)
	}
	b = appendField(b, "host", false)
	b = appendString(b, rec.Host)
	b = appendField(b, "app", false)
	b = appendString(b, rec.App)
	if rec.Installation != 0 {
		b = appendField(b, "installation", false)
		b = strconv.AppendInt(b, rec.Installation, 10)
	}
	b = appendField(b, "repositories", false)
	b = append(b, '[')
	for i, r := range rec.Repositories {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, r)
	}
	b = append(b, ']')
	if rec.RepositoriesOmitted != 0 {
		b = appendField(b, "repositories_omitted", false)
		b = strconv.AppendInt(b, int64(rec.RepositoriesOmitted), 10)
	}
	if len(rec.Permissions) > 0 {
		b = appendField(b, "permissions", false)
		b = appendMap(b, rec.Permissions)
	}
	if rec.ExpiresAt != "" {
		b = appendField(b, "expires_at", false)
		b = appendString(b, rec.ExpiresAt)
	}
	if rec.HashedToken != "" {
		b = appendField(b, "hashed_token", false)
		b = appendString(b, rec.HashedToken)
	}
	if rec.User != "" {
		b = appendField(b, "user", false)
		b = appendString(b, rec.User)
	}
	if rec.UID != nil {
		b = appendField(b, "uid", false)
		b = strconv.AppendInt(b, int64(*rec.UID), 10)
	}
	b = appendField(b, "pid", false)
	b = strconv.AppendInt(b, int64(rec.PID), 10)
	if rec.Cwd != "" {
		b = appendField(b, "cwd", false)
		b = appendString(b, rec.Cwd)
	}
	if len(rec.CI) > 0 {
		b = appendField(b, "ci", false)
		b = appendMap(b, rec.CI)
	}
	return append(b, '}')
}

// appendField appends `"name":`, after a comma unless it is the first field. Names are ours:
// plain ASCII that needs no escaping.
func appendField(b []byte, name string, first bool) []byte {
	if !first {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

// appendMap appends m as a JSON object with its keys sorted, as encoding/json writes a map.
func appendMap(b []byte, m map[string]string) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, m[k])
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaped as encoding/json escapes it: quote and
// backslash; control characters (\n, \r, \t, \b, \f, else \u00XX); <, > and & (so that a line pasted
// into HTML stays inert); U+2028 and U+2029 (line separators to JavaScript); and every byte that
// is not valid UTF-8 becomes U+FFFD, so the line is always valid UTF-8 and valid JSON.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
