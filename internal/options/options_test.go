package options

import (
	"errors"
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
