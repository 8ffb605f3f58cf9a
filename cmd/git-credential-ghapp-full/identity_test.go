package main

import (
	"testing"

	"github.com/git-credential-ghapp/git-credential-ghapp/internal/gitconfig"
)

// TestNoreplyDomain: the domain of the bot's noreply address for each kind of GitHub host.
func TestNoreplyDomain(t *testing.T) {
	for host, want := range map[string]string{
		"github.com":              "users.noreply.github.com",
		"GitHub.com":              "users.noreply.github.com",
		"octocorp.ghe.com":        "users.noreply.octocorp.ghe.com",
		"ghe.example.com":         "users.noreply.ghe.example.com",
		"ghe.example.com:8443":    "users.noreply.ghe.example.com",
		"[2001:db8::1]:443":       "users.noreply.2001:db8::1",
		"git.internal.corp.local": "users.noreply.git.internal.corp.local",
	} {
		if got := noreplyDomain(host); got != want {
			t.Errorf("noreplyDomain(%q) = %q, want %q", host, got, want)
		}
	}
}

// setup --remove takes out only an identity --commit-identity wrote: the bot's name with its
// own noreply address, never a person's.
func TestBotIdentityChanges(t *testing.T) {
	entry := func(k, v string) gitconfig.Entry { return gitconfig.Entry{Key: k, Value: v} }
	for _, tc := range []struct {
		name    string
		entries []gitconfig.Entry
		remove  bool
	}{
		{"the bot", []gitconfig.Entry{entry("user.name", "ci-bot[bot]"), entry("user.email", "41898282+ci-bot[bot]@users.noreply.github.com")}, true},
		{"a person", []gitconfig.Entry{entry("user.name", "Ada"), entry("user.email", "ada@example.com")}, false},
		{"a bot name with a person's email", []gitconfig.Entry{entry("user.name", "ci-bot[bot]"), entry("user.email", "ada@example.com")}, false},
		{"another bot's email", []gitconfig.Entry{entry("user.name", "ci-bot[bot]"), entry("user.email", "1+other[bot]@users.noreply.github.com")}, false},
		{"name only", []gitconfig.Entry{entry("user.name", "ci-bot[bot]")}, false},
	} {
		if got := len(botIdentityChanges(tc.entries)) > 0; got != tc.remove {
			t.Errorf("%s: remove = %v, want %v", tc.name, got, tc.remove)
		}
	}
}
