package main

import "testing"

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
