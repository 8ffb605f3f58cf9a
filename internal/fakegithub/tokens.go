package fakegithub

import (
	"crypto/rand"
	"encoding/base64"
	"maps"
	"slices"
	"strings"
	"time"
)

// IssuedToken is an installation access token the fake has minted.
type IssuedToken struct {
	Token          string
	InstallationID int64
	// Repositories are names without owner; nil means every repository the
	// installation covers.
	Repositories []string
	Permissions  map[string]string
	ExpiresAt    time.Time
	// IssuedAt is when the token was minted, by GitHub's clock.
	IssuedAt time.Time
	// Revoked is set by DELETE /installation/token, RevokeAll and Uninstall.
	Revoked bool
}

// Mint records one request that reached the token-minting endpoint (faults
// answered before it are not recorded; Count sees them).
type Mint struct {
	InstallationID int64
	// Repositories are the names asked for (repository_ids resolved to
	// names, unknown ids kept as "#ID"); nil when none were asked for.
	Repositories []string
	// Permissions are the permissions asked for; nil when none were.
	Permissions map[string]string
	// Status is the HTTP status answered.
	Status int
}

// Tokens returns copies of every token minted so far, oldest first.
func (s *Server) Tokens() []IssuedToken {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]IssuedToken, 0, len(s.tokenOrder))
	for _, t := range s.tokenOrder {
		c := *t
		c.Repositories = slices.Clone(t.Repositories)
		c.Permissions = maps.Clone(t.Permissions)
		out = append(out, c)
	}
	return out
}

// Mints returns copies of the mint requests since the last ResetCounters.
func (s *Server) Mints() []Mint {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Mint, 0, len(s.mints))
	for _, m := range s.mints {
		c := m
		c.Repositories = slices.Clone(m.Repositories)
		c.Permissions = maps.Clone(m.Permissions)
		out = append(out, c)
	}
	return out
}

// RevokeAll makes every token minted so far invalid, as if each had expired
// or been revoked at GitHub. Tokens minted later are valid.
func (s *Server) RevokeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokenOrder {
		t.Revoked = true
	}
}

// issueTokenLocked mints and records a token.
func (s *Server) issueTokenLocked(instID int64, repos []string, perms map[string]string) *IssuedToken {
	var tok string
	for {
		if s.longTokens {
			tok = longToken()
		} else {
			tok = classicToken()
		}
		if s.tokens[tok] == nil {
			break
		}
	}
	t := &IssuedToken{
		Token:          tok,
		InstallationID: instID,
		Repositories:   repos,
		Permissions:    perms,
		ExpiresAt:      s.nowLocked().Add(s.tokenLifetime).UTC().Truncate(time.Second),
		IssuedAt:       s.nowLocked(),
	}
	s.tokens[tok] = t
	s.tokenOrder = append(s.tokenOrder, t)
	return t
}

// liveTokenLocked returns the token if it exists, is not revoked, has not
// expired by GitHub's clock and its installation still exists.
func (s *Server) liveTokenLocked(tok string) (*IssuedToken, *Installation) {
	t := s.tokens[tok]
	if t == nil || t.Revoked || !s.nowLocked().Before(t.ExpiresAt) {
		return nil, nil
	}
	inst := s.installs[t.InstallationID]
	if inst == nil {
		return nil, nil
	}
	return t, inst
}

// laggingLocked reports whether GitHub has not replicated a live token yet (SetReplicationLag).
func (s *Server) laggingLocked(t *IssuedToken) bool {
	return t != nil && s.lag > 0 && s.nowLocked().Sub(t.IssuedAt) < s.lag
}

// tokenCoversLocked reports whether a live token reaches repository r.
func tokenCoversLocked(t *IssuedToken, inst *Installation, r *repo) bool {
	if !coversLocked(inst, r) {
		return false
	}
	return t.Repositories == nil || containsFold(t.Repositories, r.Name)
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// classicToken is GitHub's long-standing format: "ghs_" and 36 alphanumerics.
func classicToken() string {
	var b strings.Builder
	b.WriteString("ghs_")
	buf := make([]byte, 36)
	if _, err := rand.Read(buf); err != nil {
		panic(err)
	}
	for _, c := range buf {
		b.WriteByte(alnum[int(c)%len(alnum)])
	}
	return b.String()
}

// longToken imitates GitHub's newer, much longer installation tokens: 520
// characters, "ghs_" then three base64url segments joined by dots.
func longToken() string {
	seg := func(n int) string {
		buf := make([]byte, n)
		if _, err := rand.Read(buf); err != nil {
			panic(err)
		}
		return base64.RawURLEncoding.EncodeToString(buf)
	}
	// 27 bytes -> 36 chars, 294 -> 392, 64 -> 86: 4+36+1+392+1+86 = 520.
	return "ghs_" + seg(27) + "." + seg(294) + "." + seg(64)
}
