package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"
)

// TestDemo runs the whole demo: it must clone with exactly two API calls, push and answer with
// none, leave the pushed commit in the fake GitHub, never print a whole token, and clean up.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the helper and runs git")
	}
	var b bytes.Buffer
	out, err := demo(context.Background(), &b, Options{})
	if err != nil {
		t.Fatalf("demo failed: %v\noutput:\n%s", err, b.String())
	}
	text := b.String()
	// discovery, mint, and the check that GitHub accepts the new token
	if out.ColdAPICalls != 3 || out.WarmAPICalls != 0 {
		t.Errorf("API calls: cold clone %d (want 3), push and get %d (want 0)\n%s", out.ColdAPICalls, out.WarmAPICalls, text)
	}
	if out.Pushed != commitMs {
		t.Errorf("the fake repository ends with %q; want the pushed commit", out.Pushed)
	}
	if len(out.Tokens) != 1 {
		t.Errorf("the fake issued %d tokens; want 1", len(out.Tokens))
	}
	for _, tok := range out.Tokens {
		if strings.Contains(text, tok) || strings.Contains(text, tok[8:]) {
			t.Errorf("the output shows a token:\n%s", text)
		}
	}
	for _, want := range []string{
		"useHttpPath = true",
		"helper = ghapp --app-id ",
		"GET    /api/v3/repos/acme/private-repo/installation -> 200",
		"POST   /api/v3/app/installations/",
		"minted for repositories [private-repo] only",
		"GitHub API calls: none (the token came from the helper's cache)",
		"username=x-access-token",
		"password=ghs_",
		"Cleaned up",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if n := strings.Count(text, "\n"); n > 60 {
		t.Errorf("the demo prints %d lines; keep it to a few dozen", n)
	}
	if _, err := os.Stat(out.Dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the temporary directory %s is still there (%v)", out.Dir, err)
	}
}

func TestRedactAnswer(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tok := "ghs_" + strings.Repeat("A", 36)
	got := redactAnswer("username=x-access-token\npassword="+tok+"\npassword_expiry_utc=1700003600\n", now)
	want := "username=x-access-token\npassword=ghs_AAAA… (40 characters)\npassword_expiry_utc=1700003600   (2023-11-14T23:13:20Z, in 1h0m0s)\n"
	if got != want {
		t.Errorf("redactAnswer =\n%s\nwant\n%s", got, want)
	}
	if r := redact("short"); strings.Contains(r, "short") {
		t.Errorf("redact(short) = %q shows the whole secret", r)
	}
}

func TestShellJoin(t *testing.T) {
	got := shellJoin([]string{"config", "--global", "credential.https://h.helper", "ghapp --key-file ~/k.pem", "it's"})
	want := `config --global credential.https://h.helper 'ghapp --key-file ~/k.pem' 'it'\''s'`
	if got != want {
		t.Errorf("shellJoin = %s; want %s", got, want)
	}
}

func TestUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"extra"}, &stdout, &stderr); code != 2 || stdout.Len() != 0 {
		t.Errorf("extra argument: exit %d, stdout %q", code, stdout.String())
	}
	if code := run(context.Background(), []string{"-h"}, &stdout, &stderr); code != 0 || !strings.Contains(stderr.String(), "-keep") {
		t.Errorf("-h: exit %d, stderr %q", code, stderr.String())
	}
}
