package audit

import (
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/jsonw"
	"strconv"
)

// marshal renders rec as one JSON object, fields in the order of line's declaration, with what
// encoding/json would omit (the omitempty fields) left out. It is written by hand so that the
// front, which records every cache hit, does not link encoding/json and its reflection; the
// tests check that encoding/json decodes every line to what it would have encoded itself.
func (rec *line) marshal() []byte {
	b := make([]byte, 0, 512)
	b = append(b, '{')
	b = appendField(b, "time", true)
	b = jsonw.AppendString(b, rec.Time)
	b = appendField(b, "event", false)
	b = jsonw.AppendString(b, rec.Event)
	if rec.Outcome != "" {
		b = appendField(b, "outcome", false)
		b = jsonw.AppendString(b, rec.Outcome)
	}
	b = appendField(b, "host", false)
	b = jsonw.AppendString(b, rec.Host)
	b = appendField(b, "app", false)
	b = jsonw.AppendString(b, rec.App)
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
		b = jsonw.AppendString(b, r)
	}
	b = append(b, ']')
	if rec.RepositoriesOmitted != 0 {
		b = appendField(b, "repositories_omitted", false)
		b = strconv.AppendInt(b, int64(rec.RepositoriesOmitted), 10)
	}
	if len(rec.Permissions) > 0 {
		b = appendField(b, "permissions", false)
		b = jsonw.AppendStringMap(b, rec.Permissions)
	}
	if rec.ExpiresAt != "" {
		b = appendField(b, "expires_at", false)
		b = jsonw.AppendString(b, rec.ExpiresAt)
	}
	if rec.HashedToken != "" {
		b = appendField(b, "hashed_token", false)
		b = jsonw.AppendString(b, rec.HashedToken)
	}
	if rec.User != "" {
		b = appendField(b, "user", false)
		b = jsonw.AppendString(b, rec.User)
	}
	if rec.UID != nil {
		b = appendField(b, "uid", false)
		b = strconv.AppendInt(b, int64(*rec.UID), 10)
	}
	b = appendField(b, "pid", false)
	b = strconv.AppendInt(b, int64(rec.PID), 10)
	if rec.Cwd != "" {
		b = appendField(b, "cwd", false)
		b = jsonw.AppendString(b, rec.Cwd)
	}
	if len(rec.CI) > 0 {
		b = appendField(b, "ci", false)
		b = jsonw.AppendStringMap(b, rec.CI)
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
