package credential

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func TestReadRequestGood(t *testing.T) {
	maxValue := strings.Repeat("v", MaxLineLength-len("wwwauth[]="))
	tests := []struct {
		name string
		in   string
		want Request
	}{
		{
			name: "typical git get",
			in:   "capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=github.com\npath=acme/app.git\nwwwauth[]=Basic realm=\"GitHub\"\n\n",
			want: Request{Protocol: "https", Host: "github.com", Path: "acme/app.git",
				WWWAuth: []string{`Basic realm="GitHub"`}, Capability: []string{"authtype", "state"}},
		},
		{
			name: "erase with password and expiry",
			in:   "protocol=https\nhost=github.com\nusername=x-access-token\npassword=ghs_abc.def\npassword_expiry_utc=1700000000\n\n",
			want: Request{Protocol: "https", Host: "github.com", Username: "x-access-token",
				Password: "ghs_abc.def", PasswordExpiryUTC: "1700000000"},
		},
		{
			name: "end of input without blank line or final newline",
			in:   "protocol=https\nhost=github.com",
			want: Request{Protocol: "https", Host: "github.com"},
		},
		{
			name: "blank line ends the request and the rest is not parsed",
			in:   "protocol=https\nhost=github.com\n\nhost=evil.example\nno equals sign\n\x00\r\n",
			want: Request{Protocol: "https", Host: "github.com"},
		},
		{name: "empty input", in: "", want: Request{}},
		{name: "only a blank line", in: "\n", want: Request{}},
		{
			name: "host with port and lfs path",
			in:   "protocol=https\nhost=ghe.example.com:8443\npath=acme/app.git/info/lfs\n",
			want: Request{Protocol: "https", Host: "ghe.example.com:8443", Path: "acme/app.git/info/lfs"},
		},
		{
			name: "empty host is kept (git's cert prompt)",
			in:   "protocol=cert\nhost=\npath=/home/me/cert.p12\n",
			want: Request{Protocol: "cert", Path: "/home/me/cert.p12"},
		},
		{
			name: "value may contain '='",
			in:   "password=a=b==\n",
			want: Request{Password: "a=b=="},
		},
		{
			name: "a later line replaces an earlier one",
			in:   "host=a.example\nhost=github.com\n",
			want: Request{Host: "github.com"},
		},
		{
			name: "empty array value clears the list",
			in:   "wwwauth[]=Basic\nwwwauth[]=\nwwwauth[]=Bearer\ncapability[]=authtype\ncapability[]=\n",
			want: Request{WWWAuth: []string{"Bearer"}},
		},
		{
			name: "unknown and case-different keys are ignored",
			in: "protocol=https\nHOST=evil.example\nstate[]=helper:x\nephemeral=1\noauth_refresh_token=r\n" +
				"authtype=Bearer\ncredential=c\ncontinue=1\nquit=1\nweird key=\xff\xfe\nhost=github.com\n",
			want: Request{Protocol: "https", Host: "github.com"},
		},
		{
			name: "value with non-ASCII and tabs is kept as is",
			in:   "path=ac\tme/äpp\n",
			want: Request{Path: "ac\tme/äpp"},
		},
		{
			name: "line of exactly MaxLineLength bytes",
			in:   "wwwauth[]=" + maxValue + "\nhost=github.com\n",
			want: Request{Host: "github.com", WWWAuth: []string{maxValue}},
		},
		{
			name: "url with userinfo, port, percent-encoding and trailing slash",
			in:   "url=https://x-access-token:s3%40c%3Ar%2Ft@GitHub.com:8443/acme/my%20app.git/\n",
			want: Request{Protocol: "https", Host: "GitHub.com:8443", Path: "acme/my app.git",
				Username: "x-access-token", Password: "s3@c:r/t"},
		},
		{
			name: "url with username only",
			in:   "url=https://bob@github.com/acme/app\n",
			want: Request{Protocol: "https", Host: "github.com", Path: "acme/app", Username: "bob"},
		},
		{
			name: "url with host only",
			in:   "url=https://github.com\n",
			want: Request{Protocol: "https", Host: "github.com"},
		},
		{
			name: "url with :443 keeps the port as written",
			in:   "url=https://github.com:443/a/b.git\n",
			want: Request{Protocol: "https", Host: "github.com:443", Path: "a/b.git"},
		},
		{
			name: "url: '@' after the first '/' is part of the path",
			in:   "url=https://github.com/a@b/c\n",
			want: Request{Protocol: "https", Host: "github.com", Path: "a@b/c"},
		},
		{
			name: "url: query ends the host and stays in the path",
			in:   "url=https://github.com?x=1\n",
			want: Request{Protocol: "https", Host: "github.com", Path: "?x=1"},
		},
		{
			name: "url: many slashes, invalid escapes stay literal, '+' is not a space",
			in:   "url=https://github.com///a%zz/b+c%4///\n",
			want: Request{Protocol: "https", Host: "github.com", Path: "a%zz/b+c%4"},
		},
		{
			name: "url: a path of only slashes is no path",
			in:   "url=https://github.com///\n",
			want: Request{Protocol: "https", Host: "github.com"},
		},
		{
			name: "url: encoded trailing slash is trimmed after decoding, like git",
			in:   "url=https://github.com/a%2F\n",
			want: Request{Protocol: "https", Host: "github.com", Path: "a"},
		},
		{
			name: "url: IPv6 literal with port",
			in:   "url=https://[::1]:8443/acme/app.git\n",
			want: Request{Protocol: "https", Host: "[::1]:8443", Path: "acme/app.git"},
		},
		{
			name: "url: empty host (git keeps it as an empty string)",
			in:   "url=cert:///etc/cert.pem\n",
			want: Request{Protocol: "cert", Path: "etc/cert.pem"},
		},
		{
			name: "url: percent-encoded host is decoded",
			in:   "url=https://git%68ub.com/a/b\n",
			want: Request{Protocol: "https", Host: "github.com", Path: "a/b"},
		},
		{
			name: "url: empty userinfo",
			in:   "url=https://:@github.com/a\n",
			want: Request{Protocol: "https", Host: "github.com", Path: "a"},
		},
		{
			name: "url replaces everything read before it",
			in: "protocol=http\nhost=old.example\npath=old\nusername=bob\npassword=pw\npassword_expiry_utc=1\n" +
				"wwwauth[]=Basic\ncapability[]=authtype\nurl=https://github.com/new/repo\n",
			want: Request{Protocol: "https", Host: "github.com", Path: "new/repo"},
		},
		{
			name: "lines after url override it",
			in:   "url=https://bob@github.com/a/b\npath=c/d\nusername=x-access-token\n",
			want: Request{Protocol: "https", Host: "github.com", Path: "c/d", Username: "x-access-token"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Also feed it one byte at a time, so line assembly across reads is exercised.
			for _, r := range []io.Reader{strings.NewReader(tt.in), iotest.OneByteReader(strings.NewReader(tt.in))} {
				got, err := ReadRequest(r)
				if err != nil {
					t.Fatalf("ReadRequest: %v", err)
				}
				if !reflect.DeepEqual(*got, tt.want) {
					t.Fatalf("ReadRequest =\n %#v\nwant\n %#v", *got, tt.want)
				}
			}
		})
	}
}

func TestReadRequestMalformed(t *testing.T) {
	long := strings.Repeat("v", MaxLineLength-len("wwwauth[]=")+1)
	var huge strings.Builder
	for huge.Len() <= maxRequestSize {
		huge.WriteString("wwwauth[]=Basic realm=\"x\"\n")
	}
	tests := []struct {
		name string
		in   string
		want string // substring of the error text
	}{
		{"line without '='", "protocol=https\nhost\n", "line 2: has no '='"},
		{"line of only '='", "=\n", "line 1: has an empty key"},
		{"empty key", "protocol=https\n=github.com\n", "line 2: has an empty key"},
		{"CR in value", "protocol=https\nhost=github.com\rhost=evil.example\n", "line 2 (host): value contains a carriage return"},
		{"CRLF line ending", "protocol=https\r\n", "line 1 (protocol): value contains a carriage return"},
		{"lone CR line", "protocol=https\n\r\n", "line 2: has no '='"},
		{"NUL in value", "password=ab\x00cd\n", "line 1 (password): value contains a NUL byte"},
		{"NUL in key", "ho\x00st=github.com\n", "line 1: key contains a NUL byte"},
		{"CR in unknown key's value", "state[]=a\rb\n", "line 1 (state[]): value contains a carriage return"},
		{"CR in value of a key git does not define", "frob=a\rb\n", "line 1: value contains a carriage return"},
		{"line one byte too long", "wwwauth[]=" + long + "\nhost=github.com\n", "line 1 (wwwauth[]): line is longer than 65536 bytes"},
		{"too long at end of input", "protocol=https\nwwwauth[]=" + long, "line 2 (wwwauth[]): line is longer"},
		{"too long without '='", strings.Repeat("x", 3*MaxLineLength), "line 1: line is longer"},
		{"input larger than 1 MiB", huge.String(), "request is larger than 1048576 bytes"},
		{"host with '/'", "host=github.com/evil\n", "line 1 (host): value is not a host name: it contains '/'"},
		{"host with '@'", "host=evil@github.com\n", "it contains '@'"},
		{"host with backslash", "host=github.com\\evil.example\n", `it contains '\'`},
		{"host with space", "host=github.com evil\n", "it contains white space"},
		{"host with tab", "host=github.com\t\n", "it contains a control character"},
		{"host with control character", "host=github.com\x01\n", "it contains a control character"},
		{"host with DEL", "host=github.com\x7f\n", "it contains a control character"},
		{"host with Unicode space", "host=github.com\u00a0\n", "it contains white space"},
		{"url without scheme", "url=github.com/acme/app\n", "line 1 (url): url has no scheme"},
		{"url with empty scheme", "url=://github.com/acme/app\n", "url has no scheme"},
		{"url %0a in host", "url=https://github.com%0aevil/a\n", "url's host contains a line feed (LF)"},
		{"url %0d in path", "url=https://github.com/a%0db\n", "url's path contains a carriage return (CR)"},
		{"url %00 in path", "url=https://github.com/a%00\n", "url's path contains a NUL byte"},
		{"url %0A in username", "url=https://a%0Ab@github.com/\n", "url's username contains a line feed"},
		{"url %0d in password", "url=https://a:b%0d@github.com/\n", "url's password contains a carriage return"},
		{"url host with second '@'", "url=https://a@b@github.com/x\n", "url's host is not a host name: it contains '@'"},
		{"url host with encoded '/'", "url=https://github.com%2fevil.example/x\n", "url's host is not a host name: it contains '/'"},
		{"url host with space", "url=https://github.com%20/x\n", "it contains white space"},
		{"malformed line after good ones", "protocol=https\nhost=github.com\npath=a\nbad\n\n", "line 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(tt.in), iotest.HalfReader(strings.NewReader(tt.in))} {
				got, err := ReadRequest(r)
				if err == nil {
					t.Fatalf("ReadRequest = %#v, want an error containing %q", got, tt.want)
				}
				if got != nil {
					t.Errorf("ReadRequest returned a request with its error: %#v", got)
				}
				msg := err.Error()
				if !strings.Contains(msg, tt.want) {
					t.Errorf("error %q does not contain %q", msg, tt.want)
				}
				if !strings.HasPrefix(msg, "credential: ") || strings.ContainsAny(msg, "\n\r\x00") {
					t.Errorf("error %q is not one prefixed line", msg)
				}
			}
		})
	}
}

func TestReadRequestReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("protocol=https\nhost=git"), iotest.ErrReader(boom))
	_, err := ReadRequest(r)
	if !errors.Is(err, boom) {
		t.Fatalf("ReadRequest error = %v, want it to wrap %v", err, boom)
	}
	if _, err := ReadRequest(nil); err == nil {
		t.Fatal("ReadRequest(nil) succeeded")
	}
}

// TestReadRequestStopsAtBlankLine checks that nothing after the blank line is asked for
// once the blank line has been seen: the reader behind it would fail the read.
func TestReadRequestStopsAtBlankLine(t *testing.T) {
	r := io.MultiReader(strings.NewReader("protocol=https\nhost=github.com\n\n"), iotest.ErrReader(errors.New("read past the blank line")))
	req, err := ReadRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	if req.Host != "github.com" {
		t.Fatalf("Host = %q", req.Host)
	}
}

// endless yields pattern forever and counts what it handed out.
type endless struct {
	pattern []byte
	off     int
	n       int
}

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = e.pattern[e.off]
		e.off = (e.off + 1) % len(e.pattern)
	}
	e.n += len(p)
	return len(p), nil
}

func TestReadRequestBoundedOnEndlessInput(t *testing.T) {
	for _, pattern := range []string{"a", "wwwauth[]=x\n", "k=v\n", "=", "host=github.com"} {
		src := &endless{pattern: []byte(pattern)}
		err := returnsWithin(t, func() error { _, err := ReadRequest(src); return err })
		if err == nil {
			t.Fatalf("pattern %q: ReadRequest succeeded on endless input", pattern)
		}
		if src.n > maxRequestSize+2*readBufferSize {
			t.Errorf("pattern %q: read %d bytes, want at most about %d", pattern, src.n, maxRequestSize)
		}
	}
}

// returnsWithin runs f and fails the test if it has not returned after a minute; the
// limit only turns a hang into a failure, it is not a speed requirement.
func returnsWithin(t *testing.T, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		t.Fatal("did not return on endless input")
		return nil
	}
}

func TestErrorsNeverEchoTheSecret(t *testing.T) {
	const secret = "ghs_S3cretT0kenVALUE"
	pad := strings.Repeat("p", MaxLineLength)
	inputs := []string{
		"password=" + secret + "\r\n",
		"password=" + secret + "\x00\n",
		"password=" + secret + pad + "\n",
		"password" + secret + "\n",
		secret + "\n",
		secret + "=x\x00\n",
		secret + "=" + pad + "\n",
		"host=" + secret + "@github.com\n",
		"host=" + secret + "/x\n",
		"url=" + secret + "\n",
		"url=https://x-access-token:" + secret + "@github.com/a%0a\n",
		"url=https://x-access-token:" + secret + "%0d@github.com/a\n",
		"url=https://" + secret + "@a@github.com/\n",
		"oauth_refresh_token=" + secret + "\r\n",
		"wwwauth[]=Bearer " + secret + "\x00\n",
	}
	for _, in := range inputs {
		_, err := ReadRequest(strings.NewReader(in))
		if err == nil {
			t.Errorf("ReadRequest(%.40q...) succeeded, want an error", in)
			continue
		}
		if strings.Contains(err.Error(), secret[4:12]) {
			t.Errorf("error %q repeats the secret", err)
		}
		h := &Handler{Host: "github.com", Helper: &fakeHelper{}}
		err = h.Handle(t.Context(), "get", strings.NewReader(in), io.Discard)
		if err == nil || strings.Contains(err.Error(), secret[4:12]) {
			t.Errorf("Handle error %v: want an error without the secret", err)
		}
	}
	for _, c := range []*Credential{
		{Username: TokenUsername, Password: secret + "\n"},
		{Username: secret + "\r", Password: "x"},
		{Username: TokenUsername, Password: secret + "\x00"},
	} {
		err := c.Write(io.Discard)
		if err == nil || strings.Contains(err.Error(), secret[4:12]) {
			t.Errorf("Write error %v: want an error without the secret", err)
		}
	}
	for _, arg := range []string{"https://x:" + secret + "@github.com/a%0a", secret + "/a/b/c", secret + "\n/x"} {
		_, err := RequestFromURL(arg)
		if err == nil || strings.Contains(err.Error(), secret[4:12]) {
			t.Errorf("RequestFromURL error %v: want an error without the secret", err)
		}
	}
}

func TestPercentDecode(t *testing.T) {
	for in, want := range map[string]string{
		"":          "",
		"abc":       "abc",
		"%41%42":    "AB",
		"%4a%4A":    "JJ",
		"%":         "%",
		"%4":        "%4",
		"a%":        "a%",
		"%zz":       "%zz",
		"%%41":      "%A",
		"%00":       "\x00",
		"a+b":       "a+b",
		"%e2%82%ac": "€",
	} {
		if got := percentDecode(in); got != want {
			t.Errorf("percentDecode(%q) = %q, want %q", in, got, want)
		}
	}
}
