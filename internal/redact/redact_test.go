package redact

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func testPEM(t *testing.T) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}

// Secrets removes every kind of secret the program handles, wherever it stands in a line, and
// leaves the rest of the line as it was.
func TestSecrets(t *testing.T) {
	key := testPEM(t)
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIn0.c2lnbmF0dXJlLWJ5dGVz"
	tok := "ghs_" + strings.Repeat("A1b2", 9)
	for in, want := range map[string]string{
		"open " + strings.TrimSpace(key) + ": no such file": "open [redacted key]: no such file",
		"Authorization: Bearer " + jwt:                      "Authorization: Bearer [redacted]",
		"token=" + tok + " rejected":                        "token=[redacted token] rejected",
		"jwt " + jwt + " end":                               "jwt [redacted JWT] end",
		"nothing secret here":                               "nothing secret here",
	} {
		if got := Secrets(in); got != want {
			t.Errorf("Secrets(%.40q...) = %q, want %q", in, got, want)
		}
	}
}

// A key (or token) where a path or name belongs is recognised, in every form a user can paste;
// paths, including Windows paths with a literal \n, are not.
func TestLooksLikeKey(t *testing.T) {
	key := testPEM(t)
	body := strings.Join(strings.Split(key, "\n")[1:len(strings.Split(key, "\n"))-2], "")
	for _, s := range []string{key, strings.ReplaceAll(key, "\n", `\n`), body, "ghs_" + strings.Repeat("x", 36)} {
		if !LooksLikeKey(s) {
			t.Errorf("LooksLikeKey(%.30q...) = false", s)
		}
	}
	for _, s := range []string{"/home/me/.config/git-credential-ghapp/123.pem", `C:\new\app.pem`, "acme.ghe.com", ""} {
		if LooksLikeKey(s) {
			t.Errorf("LooksLikeKey(%q) = true", s)
		}
	}
}

// Shown quotes what a user gave, but never a secret, and never a URL's password.
func TestShown(t *testing.T) {
	key := testPEM(t)
	for in, want := range map[string]string{
		"acme.example":                     `"acme.example"`,
		"https://me:hunter2@ghe.example/x": `"https://me:xxxxx@ghe.example/x"`,
		"https://me:hun%zz@ghe.example/":   `"https://xxxxx@ghe.example/"`,
		key:                                "(a value that looks like a private key or a token: not shown)",
		strings.Repeat("a", 150):           `"` + strings.Repeat("a", 100) + `..."`,
	} {
		if got := Shown(in); got != want {
			t.Errorf("Shown(%.40q...) = %s, want %s", in, got, want)
		}
	}
}

// oracle is what Secrets must do, written as the regular expressions its scanners stand for.
var oracle = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`(?s)-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----.*?(-----END[A-Z0-9 ]*PRIVATE KEY-----|$)`), "[redacted key]"},
	{regexp.MustCompile(`(?i)\b(bearer|token|basic)\s+[A-Za-z0-9_.~+/=-]{20,}`), "$1 [redacted]"},
	{regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`), "[redacted JWT]"},
	{regexp.MustCompile(`\b(gh[pousr]|github_pat)_[A-Za-z0-9_.-]{10,}`), "[redacted token]"},
}

func secretsByRegexp(s string) string {
	for _, p := range oracle {
		s = p.re.ReplaceAllString(s, p.with)
	}
	return s
}

// secretSeeds hold every kind of secret, alone, next to each other, cut short, in odd cases and
// spellings (the Kelvin sign and the long s fold to k and s under (?i)), and around invalid UTF-8.
var secretSeeds = []string{
	"",
	"nothing secret here",
	"-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\ntail",
	"x-----BEGIN PRIVATE KEY-----abc",
	"-----BEGIN ENCRYPTED PRIVATE KEY----------END PRIVATE KEY-----",
	"-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----",
	"------BEGIN EC PRIVATE KEY------ a -----END EC PRIVATE KEY---- -----END EC PRIVATE KEY-----x",
	"-----BEGIN RSA PRIVATE KEY-----a-----END rsa PRIVATE KEY-----b-----END  PRIVATE KEY-----c",
	"-----BEGINPRIVATE KEY-----\xff\xfe-----ENDPRIVATE KEY-----",
	"-----BEGIN PRIVATE KEY----- -----BEGIN PRIVATE KEY-----",
	"Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIn0.c2lnbmF0dXJlLWJ5dGVz",
	"authorization: token ghs_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	"Basic dXNlcjpwYXNzd29yZHBhc3N3b3Jk==",
	"BASIC\t\n\f\r dXNlcjpwYXNzd29yZHBhc3N3b3Jk",
	"xtoken abcdefghijklmnopqrstuvwxyz",
	"_token abcdefghijklmnopqrstuvwxyz",
	"-token abcdefghijklmnopqrstuvwxyz",
	"token abcdefghijklmnopqrs",
	"token abcdefghijklmnopqrst",
	"to\u212aen abcdefghijklmnopqrstuvwxyz",
	"ba\u017fic abcdefghijklmnopqrstuvwxyz",
	"token \u212a\u017f\u212a\u017f\u212a\u017f\u212a\u017f\u212a\u017f\u212a\u017f\u212a\u017f\u212a\u017f\u212a\u017f\u212a\u017f",
	"token abcdefghijklmnopqrs\u212a\xff",
	"token \xffabcdefghijklmnopqrstuvwxyz",
	"\xfftoken abcdefghijklmnopqrstuvwxyz",
	"\u00e9token abcdefghijklmnopqrstuvwxyz",
	"token\u00a0abcdefghijklmnopqrstuvwxyz",
	"token\vabcdefghijklmnopqrstuvwxyz",
	"bearer bearer abcdefghijklmnopqrstuvwxyz",
	"jwt eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIn0.c2lnbmF0dXJlLWJ5dGVz end",
	"eyJ.a.",
	"eyJ..a",
	"eyJeyJa.b.c",
	"eyJa.b",
	"xeyJa.b.c.d.e",
	"token=ghs_A1b2A1b2A1b2A1b2A1b2A1b2A1b2A1b2A1b2 rejected",
	"ghp_123456789",
	"ghp_1234567890",
	"xghp_1234567890",
	"-ghp_1234567890",
	"ghx_1234567890 gho_1.2.3.4.5.6 ghu_abcdefghij ghs_abcdefghij ghr_abcdefghij",
	"github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
	"ggithub_pat_11ABCDEFG0 g github_pat_ github_pat_1234567890",
	"ghghp_1234567890 gh ghp_ \xffghp_1234567890",
	"Bearer eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIn0.c2ln -----BEGIN PRIVATE KEY----- token ghs_abcdefghijklmnopqrstuvwxyz",
}

// The scanners do exactly what the regular expressions do, on the seeds.
func TestSecretsAsRegexp(t *testing.T) {
	for _, s := range secretSeeds {
		if got, want := Secrets(s), secretsByRegexp(s); got != want {
			t.Errorf("Secrets(%q) = %q; the regexps give %q", s, got, want)
		}
	}
}

// FuzzSecrets holds the scanners to the regular expressions on any input.
func FuzzSecrets(f *testing.F) {
	for _, s := range secretSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Secrets(s), secretsByRegexp(s); got != want {
			t.Errorf("Secrets(%q) = %q; the regexps give %q", s, got, want)
		}
	})
}

// BenchmarkSecretsHostile runs Secrets over 64 KiB that start a secret over and over and never
// finish one: the scanners should take time linear in the input, as the regexp package does
// (compare the ns/op with -benchtime and longer inputs).
func BenchmarkSecretsHostile(b *testing.B) {
	for name, unit := range map[string]string{"jwt": "eyJ", "token": "ghp_a.", "key": "-----BEGIN PRIVATE KEY-----", "auth": "token a.", "end": "x-----END PRIVATE KEY---"} {
		s := strings.Repeat(unit, 1<<16/len(unit))
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				Secrets(s)
			}
		})
	}
}

// shownURLByNetURL is what Shown did to a URL with net/url, before hideUserinfo: the oracle.
func shownURLByNetURL(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	if u, err := url.Parse(s); err == nil && u.User != nil {
		name := u.User.Username()
		if len(name) > 39 {
			name = "xxxxx"
		}
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(name, "xxxxx")
		} else {
			u.User = url.User(name)
		}
		return u.String()
	} else if at := strings.LastIndex(s, "@"); err != nil && at > i {
		return s[:i+3] + "xxxxx" + s[at:]
	}
	return s
}

var urlSeeds = []string{
	"https://me:hunter2@ghe.example/x", "https://me@ghe.example", "https://me:@ghe.example:8443/api/v3",
	"https://" + strings.Repeat("t", 60) + "@ghe.example/", "https://me:hun%zz@ghe.example/",
	"https://a@b:c@host/p@q", "https://me:pw@host:x/p@q", "https://host:x/p@q", "https://host/p@q",
	"ftp://me:pw@a:b:80/", "HTTPS://me:pw@host/", "://me:pw@host", "a@b://host", "https://me:pw@/x",
	"https://me:pw@host/a b@c", "https://me:pw@[::1]:80/", "https://me:p%40w@host/", "x https://me:pw@host",
	"https://host?q=@x", "https://me:pw@host#frag@x", "https://me:pw@host:/", "//me:pw@host/x://y", "//@#000://0 ", "//me:pw@h/x://y@z", "git+ssh://me:pw@h/",
}

// hideUserinfo prints a plain URL as net/url did, and any other no less hidden.
func TestShownURLsAsNetURL(t *testing.T) {
	for _, s := range urlSeeds {
		checkShownURL(t, s)
	}
	for _, s := range []string{
		"https://me:hunter2@ghe.example/x", "https://me@ghe.example", "https://me:@ghe.example:8443/api/v3",
		"https://" + strings.Repeat("t", 60) + "@ghe.example/", "https://a@b:c@host/p@q", "https://me:pw@/x",
		"http://x-access-token:ghs_x@127.0.0.1:8080/acme/app.git", "https://host/p@q",
	} {
		if got, want := hideUserinfo(s, strings.Index(s, "://")), shownURLByNetURL(s); got != want {
			t.Errorf("hideUserinfo(%q) = %q; net/url gives %q", s, got, want)
		}
	}
}

func checkShownURL(t *testing.T, s string) {
	i := strings.Index(s, "://")
	if i < 0 {
		return
	}
	got, want := hideUserinfo(s, i), shownURLByNetURL(s)
	if got == want {
		return
	}
	// Otherwise everything before the last @ is hidden, but a scheme of letters only.
	at := strings.LastIndex(s, "@")
	hidden := "xxxxx" + s[max(at, 0):]
	if at > i && regexp.MustCompile(`^[A-Za-z]+$`).MatchString(s[:i]) {
		hidden = s[:i+3] + hidden
	}
	if at < 0 || got != hidden {
		t.Errorf("hideUserinfo(%q) = %q; net/url gives %q", s, got, want)
	}
	if u, err := url.Parse(s); err == nil && u.User != nil {
		if p, has := u.User.Password(); has && p != "" && strings.Contains(got, ":"+p+"@") {
			t.Errorf("hideUserinfo(%q) = %q shows the password", s, got)
		}
	}
}

// FuzzShownURL holds hideUserinfo to net/url on any input.
func FuzzShownURL(f *testing.F) {
	for _, s := range urlSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkShownURL(t, s) })
}

func TestBase64Run(t *testing.T) {
	std := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\xfb\xff\xfe key material ", 20)))
	url := base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("\xfb\xff\xfe key material ", 20)))
	for _, c := range []struct {
		s    string
		want bool
	}{
		{std, true},
		{url, true},
		{std[:76] + "\n" + std[76:152] + `\n` + std[152:], true}, // wrapped, or with \n escapes
		{strings.Repeat("ab+c", 70) + "d_e", false},              // two alphabets at once
		{std[:10] + "=" + std[10:], false},                       // padding inside
		{"/home/runner/work/" + strings.Repeat("x", 300) + "/app.pem", false},
		{"", false},
		{"====", false},
	} {
		if got := base64Run(c.s); got != c.want {
			t.Errorf("base64Run(%.40q...) = %v, want %v", c.s, got, c.want)
		}
	}
}
