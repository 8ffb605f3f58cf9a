package options

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestParse(t *testing.T) {
	o, rest, err := Parse([]string{"--app-id", "7", "-hostname=GHE.example.com", "--", "get", "--x"}, env("GHAPP_APP_ID", "1", "GHAPP_SCOPE", "installation"))
	if err != nil {
		t.Fatal(err)
	}
	if o.AppID != "7" || o.Hostname != "ghe.example.com" || o.Scope != "installation" || strings.Join(rest, " ") != "get --x" {
		t.Fatalf("got %+v, rest %q", o, rest)
	}
	if strings.Join(o.Flags, " ") != "--app-id 7 -hostname=GHE.example.com" {
		t.Fatalf("Flags = %q", o.Flags)
	}
	// A later flag wins; the environment fills the rest.
	o, rest, err = o.Extend([]string{"--app-id", "8", "extra"}, env("GHAPP_OWNER", "acme"))
	if err != nil || o.AppID != "8" || o.Owner != "acme" || len(rest) != 1 {
		t.Fatalf("Extend: %+v, %q, %v", o, rest, err)
	}
	if _, _, err := Parse([]string{"get", "--help"}, env()); err != nil {
		t.Fatalf("flags after the command are not Parse's: %v", err)
	}
	for args, want := range map[string]error{"--help": ErrHelp, "-h": ErrHelp, "--version": ErrVersion} {
		if _, _, err := Parse([]string{"--app-id", "1", args}, env()); !errors.Is(err, want) {
			t.Errorf("%s: %v; want %v", args, err, want)
		}
	}
}

// Errors name an option as the user wrote it: with their dashes, or by its variable.
func TestParseErrorsAsTyped(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  func(string) string
		want string
	}{
		{[]string{"--nope"}, env(), "flag provided but not defined: --nope"},
		{[]string{"-nope=1"}, env(), "flag provided but not defined: -nope"},
		{[]string{"-app-id"}, env(), "flag needs an argument: -app-id"},
		{[]string{"-installation-id", "x"}, env(), `-installation-id "x" is not a positive number`},
		{nil, env("GHAPP_INSTALLATION_ID", "x"), `GHAPP_INSTALLATION_ID "x" is not a positive number`},
		{[]string{"--api-url", "http://h"}, env(), `--api-url "http://h" must start with https://`},
	} {
		_, _, err := Parse(c.args, c.env)
		if err == nil || err.Error() != c.want {
			t.Errorf("%q: %v; want %q", c.args, err, c.want)
		}
	}
}

// GHAPP_API_URL counts only with the host from the environment, or on the host served.
func TestAPIURLFromEnvironment(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  func(string) string
		want string
	}{
		{[]string{"--hostname", "ghe.acme.com"}, env("GHAPP_API_URL", "https://ghe.other.com/api/v3"), ""},
		{nil, env("GHAPP_API_URL", "https://ghe.other.com/api/v3"), ""},
		{nil, env("GHAPP_API_URL", "https://ghe.other.com/api/v3", "GHAPP_HOSTNAME", "ghe.other.com"), "https://ghe.other.com/api/v3"},
		{nil, env("GHAPP_API_URL", "https://ghe.other.com/api/v3", "GHAPP_HOSTNAME", "git.example.com"), "https://ghe.other.com/api/v3"},
		{[]string{"--hostname", "ghe.acme.com"}, env("GHAPP_API_URL", "https://ghe.acme.com/api/v3/"), "https://ghe.acme.com/api/v3"},
		{[]string{"--hostname", "acme.ghe.com"}, env("GHAPP_API_URL", "https://api.acme.ghe.com"), "https://api.acme.ghe.com"},
		{[]string{"--hostname", "ghe.acme.com", "--api-url", "https://proxy.acme.com/api/v3"}, env(), "https://proxy.acme.com/api/v3"},
	} {
		o, _, err := Parse(c.args, c.env)
		if err != nil || o.APIURL != c.want {
			t.Errorf("%q: APIURL %q, %v; want %q", c.args, o.APIURL, err, c.want)
		}
		if ignored := c.want == "" && len(o.Notes) == 1 && strings.HasPrefix(o.Notes[0], "ignoring GHAPP_API_URL"); (c.want == "") != ignored {
			t.Errorf("%q: notes %q", c.args, o.Notes)
		}
	}
}

func TestUsageListsEveryOption(t *testing.T) {
	u := Usage()
	for _, opt := range All {
		if !strings.Contains(u, opt.Env) || (opt.Flag != "" && !strings.Contains(u, "--"+opt.Flag+" ")) {
			t.Errorf("usage misses %s", opt.Env)
		}
	}
}

// netURL is the full helper's URLParser.
func netURL(rawURL string) (string, bool, bool) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", false, false
	}
	return u.Host, u.User != nil, true
}

// An API URL that is not plain is left to a URLParser: without one (the front) it is
// ErrURLNotRead, with one it is checked as net/url reads it.
func TestAPIURLNotPlain(t *testing.T) {
	for _, c := range []struct{ url, err string }{
		{"https://ghe.example/api%2Fv3", ""},
		{"https://ghe.example/api/v3?x=1", ""},
		{"https://[::1]:8443/api/v3", ""},
		{"https://me:pw@ghe.example/api/v3", `--api-url "https://me:xxxxx@ghe.example/api/v3" must be a URL without a user name or password`},
		{"https://ghe.example/api%zz", `--api-url "https://ghe.example/api%zz" must be a URL without a user name or password`},
		{"https://ghe.example:80:80/api/v3", `--api-url "https://ghe.example:80:80/api/v3" must be a URL without a user name or password`},
	} {
		if _, _, err := Parse([]string{"--api-url", c.url}, env()); !errors.Is(err, ErrURLNotRead) {
			t.Errorf("Parse(--api-url %s): %v; want ErrURLNotRead", c.url, err)
		}
		o, _, err := ParseWith([]string{"--api-url", c.url}, env(), netURL)
		if c.err == "" && (err != nil || o.APIURL != c.url) {
			t.Errorf("ParseWith(--api-url %s): %v; want it accepted", c.url, err)
		}
		if c.err != "" && (err == nil || err.Error() != c.err) {
			t.Errorf("ParseWith(--api-url %s): %v; want %s", c.url, err, c.err)
		}
	}
	// The front keeps the parser through Extend (flags after the operation).
	o, _, err := ParseWith([]string{"--app-id", "1"}, env(), netURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := o.Extend([]string{"--api-url", "https://ghe.example/a%2Fb"}, env()); err != nil {
		t.Errorf("Extend: %v", err)
	}
}

// FuzzPlainAPIURL holds plainAPIURL to net/url: what it reads, net/url reads the same way.
func FuzzPlainAPIURL(f *testing.F) {
	for _, s := range []string{"https://ghe.example/api/v3", "https://api.acme.ghe.com", "https://h:8443/", "https://h:/x", "https://h:1:2/", "https://me@h/", "https://[::1]/", "https:///x", "https://h/a:b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		host, ok := plainAPIURL(s)
		if !ok {
			return
		}
		if h, hasUser, ok := netURL(s); !ok || hasUser || h != host {
			t.Errorf("plainAPIURL(%q) = %q; net/url: host %q, user %v, parsed %v", s, host, h, hasUser, ok)
		}
	})
}

// TestOptionsFitTheArrays: Parse keeps the flags it reads in arrays of maxOptions.
func TestOptionsFitTheArrays(t *testing.T) {
	if len(All) > maxOptions {
		t.Fatalf("%d options, but Parse has room for %d: raise maxOptions", len(All), maxOptions)
	}
}
