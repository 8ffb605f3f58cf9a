package credential

import (
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fakeHelper records its calls and answers every Get with cred (or err).
type fakeHelper struct {
	cred     *Credential
	getErr   error
	eraseErr error
	calls    []fakeCall
}

type fakeCall struct {
	op  string
	req Request
	ctx context.Context
}

func (f *fakeHelper) Get(ctx context.Context, req *Request) (*Credential, error) {
	f.calls = append(f.calls, fakeCall{"get", *req, ctx})
	return f.cred, f.getErr
}

func (f *fakeHelper) Erase(ctx context.Context, req *Request) error {
	f.calls = append(f.calls, fakeCall{"erase", *req, ctx})
	return f.eraseErr
}

// mustNotRead fails the test if anything reads it.
type mustNotRead struct{ t *testing.T }

func (m mustNotRead) Read([]byte) (int, error) {
	m.t.Error("stdin was read")
	return 0, io.EOF
}

var testExpiry = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

const tokenAnswer = "username=x-access-token\npassword=ghs_token.v2\npassword_expiry_utc=1893553445\n"

func TestHandle(t *testing.T) {
	token := &Credential{Username: TokenUsername, Password: "ghs_token.v2", PasswordExpiry: testExpiry}
	const gh = "protocol=https\nhost=github.com\npath=acme/app.git\n\n"
	tests := []struct {
		name      string
		host      string // configured; "github.com" if empty
		op        string
		in        string
		cred      *Credential
		getErr    error
		eraseErr  error
		wantOut   string
		wantErr   string // substring; "" means no error
		wantCalls []string
		wantReq   *Request // what the helper was asked, if called
	}{
		{name: "get served", op: "get", in: gh, cred: token, wantOut: tokenAnswer, wantCalls: []string{"get"},
			wantReq: &Request{Protocol: "https", Host: "github.com", Path: "acme/app.git"}},
		{name: "get served without expiry", op: "get", in: gh,
			cred:    &Credential{Username: TokenUsername, Password: "t"},
			wantOut: "username=x-access-token\npassword=t\n", wantCalls: []string{"get"}},
		{name: "get other host", op: "get", in: "protocol=https\nhost=gitlab.com\n", cred: token},
		{name: "get host that only ends like ours", op: "get", in: "protocol=https\nhost=evilgithub.com\n", cred: token},
		{name: "get subdomain of ours", op: "get", in: "protocol=https\nhost=api.github.com\n", cred: token},
		{name: "get ours with trailing dot", op: "get", in: "protocol=https\nhost=github.com.\n", cred: token},
		{name: "get http", op: "get", in: "protocol=http\nhost=github.com\n", cred: token},
		{name: "get HTTPS in capitals is not https", op: "get", in: "protocol=HTTPS\nhost=github.com\n", cred: token},
		{name: "get ssh", op: "get", in: "protocol=ssh\nhost=github.com\n", cred: token},
		{name: "get port on request only", op: "get", in: "protocol=https\nhost=github.com:8443\n", cred: token},
		{name: "get port missing on request", host: "ghe.example.com:8443", op: "get",
			in: "protocol=https\nhost=ghe.example.com\n", cred: token},
		{name: "get other port", host: "ghe.example.com:8443", op: "get",
			in: "protocol=https\nhost=ghe.example.com:8444\n", cred: token},
		{name: "get same non-default port", host: "ghe.example.com:8443", op: "get",
			in: "protocol=https\nhost=GHE.example.com:8443\n", cred: token, wantOut: tokenAnswer, wantCalls: []string{"get"}},
		{name: "get uppercase host", op: "get", in: "protocol=https\nhost=GitHub.COM\n", cred: token,
			wantOut: tokenAnswer, wantCalls: []string{"get"}},
		{name: "get explicit :443 on request", op: "get", in: "protocol=https\nhost=github.com:443\n", cred: token,
			wantOut: tokenAnswer, wantCalls: []string{"get"}},
		{name: "get explicit :443 in configuration", host: "github.com:443", op: "get",
			in: "protocol=https\nhost=github.com\n", cred: token, wantOut: tokenAnswer, wantCalls: []string{"get"}},
		{name: "get host with Kelvin sign is not ours", host: "ghe.kompany.com", op: "get",
			in: "protocol=https\nhost=ghe.\u212aompany.com\n", cred: token},
		{name: "get foreign username", op: "get", in: "protocol=https\nhost=github.com\nusername=bob\n", cred: token},
		{name: "get username differing in case", op: "get", in: "protocol=https\nhost=github.com\nusername=X-Access-Token\n", cred: token},
		{name: "get x-access-token username", op: "get", in: "protocol=https\nhost=github.com\nusername=x-access-token\n",
			cred: token, wantOut: tokenAnswer, wantCalls: []string{"get"}},
		{name: "get via url=", op: "get", in: "url=https://github.com/acme/app.git\n", cred: token,
			wantOut: tokenAnswer, wantCalls: []string{"get"},
			wantReq: &Request{Protocol: "https", Host: "github.com", Path: "acme/app.git"}},
		{name: "get via url= with foreign user", op: "get", in: "url=https://bob@github.com/acme/app.git\n", cred: token},
		{name: "get with wwwauth and capabilities", op: "get",
			in:   "capability[]=authtype\nprotocol=https\nhost=github.com\nwwwauth[]=Basic realm=\"GitHub\"\n\n",
			cred: token, wantOut: tokenAnswer, wantCalls: []string{"get"},
			wantReq: &Request{Protocol: "https", Host: "github.com", WWWAuth: []string{`Basic realm="GitHub"`}, Capability: []string{"authtype"}}},
		{name: "get helper has nothing", op: "get", in: gh, wantCalls: []string{"get"}},
		{name: "get helper error", op: "get", in: gh, getErr: errors.New("the app is not installed on acme\nsecond line"),
			wantErr: "the app is not installed on acme second line", wantCalls: []string{"get"}},
		{name: "get helper credential with LF in password", op: "get", in: gh,
			cred:    &Credential{Username: TokenUsername, Password: "tok\nusername=evil"},
			wantErr: "refusing to write a password that contains a line feed", wantCalls: []string{"get"}},
		{name: "get helper credential with empty username", op: "get", in: gh,
			cred: &Credential{Password: "tok"}, wantErr: "empty username", wantCalls: []string{"get"}},
		{name: "get cert prompt is not ours and not an error", op: "get", in: "protocol=cert\nhost=\npath=/x.p12\n", cred: token},

		{name: "get malformed: no protocol", op: "get", in: "host=github.com\n", cred: token, wantErr: "request has no protocol"},
		{name: "get malformed: empty protocol", op: "get", in: "protocol=\nhost=github.com\n", cred: token, wantErr: "request has no protocol"},
		{name: "get malformed: no host", op: "get", in: "protocol=https\npath=a/b\n", cred: token, wantErr: "request has no host"},
		{name: "get malformed: no host, other protocol", op: "get", in: "protocol=http\n", cred: token, wantErr: "request has no host"},
		{name: "get malformed: empty https host", op: "get", in: "protocol=https\nhost=\n", cred: token, wantErr: "empty host"},
		{name: "get malformed: empty input", op: "get", in: "", cred: token, wantErr: "request has no protocol"},
		{name: "get malformed: no '='", op: "get", in: "protocol=https\nhost=github.com\ngarbage\n", cred: token, wantErr: "has no '='"},
		{name: "get malformed: CR injection", op: "get", in: "protocol=https\nhost=evil.example\rhost=github.com\n", cred: token, wantErr: "carriage return"},
		{name: "get malformed: host with '@'", op: "get", in: "protocol=https\nhost=evil.example@github.com\n", cred: token, wantErr: "'@'"},
		{name: "get malformed: url with %0a", op: "get", in: "url=https://github.com%0ahost=evil/\n", cred: token, wantErr: "line feed"},

		{name: "erase with password", op: "erase", in: "protocol=https\nhost=github.com\nusername=x-access-token\npassword=ghs_old\n\n",
			wantCalls: []string{"erase"},
			wantReq:   &Request{Protocol: "https", Host: "github.com", Username: "x-access-token", Password: "ghs_old"}},
		{name: "erase without password", op: "erase", in: "protocol=https\nhost=github.com\nusername=x-access-token\n"},
		{name: "erase other host", op: "erase", in: "protocol=https\nhost=gitlab.com\npassword=p\n"},
		{name: "erase foreign username", op: "erase", in: "protocol=https\nhost=github.com\nusername=bob\npassword=p\n"},
		{name: "erase helper error", op: "erase", in: "protocol=https\nhost=github.com\npassword=p\n",
			eraseErr: errors.New("cache\tbroken"), wantErr: "cache broken", wantCalls: []string{"erase"}},
		{name: "erase malformed", op: "erase", in: "protocol=https\npassword=p\n", wantErr: "request has no host"},

		{name: "store served request", op: "store", in: "protocol=https\nhost=github.com\nusername=x-access-token\npassword=p\n\n", cred: token},
		{name: "store malformed request", op: "store", in: "garbage\x00\n", cred: token},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			helper := &fakeHelper{cred: tt.cred, getErr: tt.getErr, eraseErr: tt.eraseErr}
			host := tt.host
			if host == "" {
				host = "github.com"
			}
			h := &Handler{Host: host, Helper: helper}
			var out bytes.Buffer
			type ctxKey struct{}
			ctx := context.WithValue(t.Context(), ctxKey{}, "marker")
			err := h.Handle(ctx, tt.op, strings.NewReader(tt.in), &out)

			if tt.wantErr == "" && err != nil {
				t.Fatalf("Handle error: %v", err)
			}
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Handle succeeded, want an error containing %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q does not contain %q", err, tt.wantErr)
				}
				if strings.ContainsAny(err.Error(), "\n\r\t\x00") {
					t.Errorf("error %q is not one clean line", err)
				}
				if out.Len() != 0 {
					t.Errorf("wrote %q together with an error", out.String())
				}
			}
			if got := out.String(); got != tt.wantOut {
				t.Errorf("out = %q, want %q", got, tt.wantOut)
			}
			var ops []string
			for _, c := range helper.calls {
				ops = append(ops, c.op)
				if c.ctx.Value(ctxKey{}) != "marker" {
					t.Errorf("helper %s did not get Handle's context", c.op)
				}
			}
			if !reflect.DeepEqual(ops, tt.wantCalls) {
				t.Errorf("helper calls = %v, want %v", ops, tt.wantCalls)
			}
			if tt.wantReq != nil && len(helper.calls) == 1 && !reflect.DeepEqual(helper.calls[0].req, *tt.wantReq) {
				t.Errorf("helper got %#v, want %#v", helper.calls[0].req, *tt.wantReq)
			}
		})
	}
}

func TestHandleHelperErrorIsWrapped(t *testing.T) {
	sentinel := errors.New("not installed")
	helper := &fakeHelper{getErr: sentinel}
	h := &Handler{Host: "github.com", Helper: helper}
	err := h.Handle(t.Context(), "get", strings.NewReader("protocol=https\nhost=github.com\n"), io.Discard)
	if !errors.Is(err, sentinel) || err.Error() != "not installed" {
		t.Fatalf("Handle error = %v, want the helper's error unchanged", err)
	}
	helper.getErr = errors.New("\n\r\n")
	err = h.Handle(t.Context(), "get", strings.NewReader("protocol=https\nhost=github.com\n"), io.Discard)
	if err == nil || err.Error() == "" || strings.ContainsAny(err.Error(), "\n\r") {
		t.Fatalf("Handle error = %q, want a non-empty single line", err)
	}
}

func TestHandleUnknownOpDoesNotReadStdin(t *testing.T) {
	for _, op := range []string{"", "capability", "fill", "GET", "approve", "reject", "frobnicate"} {
		helper := &fakeHelper{cred: &Credential{Username: TokenUsername, Password: "t"}}
		h := &Handler{Host: "github.com", Helper: helper}
		var out bytes.Buffer
		if err := h.Handle(t.Context(), op, mustNotRead{t}, &out); err != nil {
			t.Errorf("op %q: error %v", op, err)
		}
		if out.Len() != 0 || len(helper.calls) != 0 {
			t.Errorf("op %q: out %q, calls %v", op, out.String(), helper.calls)
		}
	}
}

func TestHandleMisconfigured(t *testing.T) {
	in := "protocol=https\nhost=github.com\n"
	for _, host := range []string{"", "github.com/x", "git hub.com"} {
		h := &Handler{Host: host, Helper: &fakeHelper{cred: &Credential{Username: TokenUsername, Password: "t"}}}
		var out bytes.Buffer
		if err := h.Handle(t.Context(), "get", strings.NewReader(in), &out); err == nil || out.Len() != 0 {
			t.Errorf("Host %q: err %v, out %q; want an error and no output", host, err, out.String())
		}
	}
	h := &Handler{Host: "github.com"}
	if err := h.Handle(t.Context(), "get", strings.NewReader(in), io.Discard); err == nil {
		t.Error("nil Helper: no error")
	}
	// Not served: a nil Helper does not matter.
	if err := h.Handle(t.Context(), "get", strings.NewReader("protocol=https\nhost=gitlab.com\n"), io.Discard); err != nil {
		t.Errorf("nil Helper, other host: %v", err)
	}
}

// TestHandleHangGuard feeds Handle endless input and checks that it returns with an error
// (and reads a bounded amount). The timeout only turns a hang into a failure.
func TestHandleHangGuard(t *testing.T) {
	for _, pattern := range []string{"x", "protocol=https\n", "wwwauth[]=" + strings.Repeat("B", 100) + "\n", "host=github.com"} {
		for _, op := range []string{"get", "erase", "store"} {
			src := &endless{pattern: []byte(pattern)}
			h := &Handler{Host: "github.com", Helper: &fakeHelper{cred: &Credential{Username: TokenUsername, Password: "t"}}}
			var out bytes.Buffer
			err := returnsWithin(t, func() error { return h.Handle(t.Context(), op, src, &out) })
			if op != "store" && err == nil {
				t.Errorf("op %s, pattern %.20q: no error on endless input", op, pattern)
			}
			if op == "store" && err != nil {
				t.Errorf("op store: error %v", err)
			}
			if out.Len() != 0 {
				t.Errorf("op %s: wrote %q", op, out.String())
			}
			if src.n > maxRequestSize+2*readBufferSize {
				t.Errorf("op %s, pattern %.20q: read %d bytes", op, pattern, src.n)
			}
		}
	}
}

func TestServes(t *testing.T) {
	h := &Handler{Host: "GitHub.com"}
	for _, tt := range []struct {
		req  *Request
		want bool
	}{
		{&Request{Protocol: "https", Host: "github.com"}, true},
		{&Request{Protocol: "https", Host: "github.com:443", Username: TokenUsername}, true},
		{&Request{Protocol: "https", Host: "github.com", Username: "bob"}, false},
		{&Request{Protocol: "http", Host: "github.com"}, false},
		{&Request{Protocol: "https", Host: ""}, false},
		{&Request{Protocol: "https", Host: "github.com:"}, false},
		{&Request{Protocol: "https", Host: "github.com:0443"}, false},
		{&Request{Protocol: "https", Host: "github.com:443:443"}, false},
		{&Request{Protocol: "https", Host: "github.com@evil"}, false},
		{nil, false},
	} {
		if got := h.Serves(tt.req); got != tt.want {
			t.Errorf("Serves(%+v) = %v, want %v", tt.req, got, tt.want)
		}
	}
	var nilHandler *Handler
	if nilHandler.Serves(&Request{Protocol: "https", Host: "github.com"}) {
		t.Error("nil handler serves")
	}
	v6 := &Handler{Host: "[::1]:443"}
	if !v6.Serves(&Request{Protocol: "https", Host: "[::1]"}) || v6.Serves(&Request{Protocol: "https", Host: "[::2]"}) {
		t.Error("IPv6 host with :443 compared wrongly")
	}
}

func TestRequestFromURL(t *testing.T) {
	good := []struct {
		in   string
		want Request
	}{
		{"acme/app", Request{Protocol: "https", Path: "acme/app"}},
		{"acme/app.git", Request{Protocol: "https", Path: "acme/app.git"}},
		{"acme/app/", Request{Protocol: "https", Path: "acme/app"}},
		{"Acme-Corp/my_app.v2", Request{Protocol: "https", Path: "Acme-Corp/my_app.v2"}},
		{"github.com/acme/app", Request{Protocol: "https", Host: "github.com", Path: "acme/app"}},
		{"ghe.example.com:8443/acme/app", Request{Protocol: "https", Host: "ghe.example.com:8443", Path: "acme/app"}},
		{"https://github.com/acme/app", Request{Protocol: "https", Host: "github.com", Path: "acme/app"}},
		{"https://github.com/acme/app.git/", Request{Protocol: "https", Host: "github.com", Path: "acme/app.git"}},
		{"https://ghe.example.com:8443/acme/app.git/info/lfs", Request{Protocol: "https", Host: "ghe.example.com:8443", Path: "acme/app.git/info/lfs"}},
		{"https://github.com", Request{Protocol: "https", Host: "github.com"}},
		{"https://x-access-token@github.com/acme/app", Request{Protocol: "https", Host: "github.com", Path: "acme/app", Username: "x-access-token"}},
		{"http://github.com/acme/app", Request{Protocol: "http", Host: "github.com", Path: "acme/app"}},
	}
	for _, tt := range good {
		got, err := RequestFromURL(tt.in)
		if err != nil {
			t.Errorf("RequestFromURL(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("RequestFromURL(%q) = %#v, want %#v", tt.in, *got, tt.want)
		}
	}
	for _, in := range []string{
		"", "acme", "/acme/app", "acme//app", "acme/app/extra", "ghe/acme/app", "acme/../x", "../app",
		"acme/app name", "acme/app\n", "acme/app\r", "acme/app\x00", "git@github.com:acme/app.git",
		"a/b/c/d", "github.com/acme", "https:///acme/app", "https://github.com/a%0ab", "https://evil@x@github.com/a",
		"://github.com/a/b", "gith@b.com/acme/app", strings.Repeat("a", MaxLineLength) + "/b",
	} {
		if got, err := RequestFromURL(in); err == nil {
			t.Errorf("RequestFromURL(%.40q) = %#v, want an error", in, got)
		}
	}
}
