package credential

import (
	"bytes"
	"context"
	"flag"
	"strings"
	"testing"
	"time"
)

// fuzzSeeds are known attacks and edge cases, shared by the fuzz targets.
var fuzzSeeds = []string{
	"protocol=https\nhost=github.com\npath=acme/app.git\n\n",
	"protocol=https\nhost=github.com\nusername=x-access-token\npassword=ghs_x\n\n",
	"protocol=https\nhost=GitHub.com:443\n",
	"protocol=https\nhost=github.com:8443\n",
	"protocol=http\nhost=github.com\n",
	"protocol=https\nhost=github.com\nusername=bob\n",
	"url=https://x-access-token:p%40ss@github.com:443/acme/app.git/\n",
	"url=https://git%68ub.com/a/b\n",
	// CR, LF and NUL smuggled into values (CVE-2020-5260, CVE-2020-11008, CVE-2024-52006).
	"protocol=https\nhost=evil.example\rhost=github.com\n",
	"protocol=https\r\nhost=github.com\r\n\r\n",
	"protocol=https\nhost=github.com\x00evil\n",
	"url=https://github.com%0ahost=evil.example/\n",
	"url=https://evil.example%0d%0ahost=github.com/\n",
	"url=https://github.com/a%00b\n",
	"url=https://github.com%0d/\n",
	"url=https://a@b@github.com/\n",
	"url=https:///acme/app\n",
	"url=github.com/acme/app\n",
	"url=\n",
	// Missing pieces.
	"host=github.com\n",
	"protocol=https\n",
	"protocol=\nhost=github.com\n",
	"protocol=https\nhost=\n",
	"protocol=cert\nhost=\npath=/x.p12\n",
	// Lines of only '=' and without '='.
	"=\n",
	"==\n=\n",
	"protocol=https\nhost\n",
	"\n\n",
	"",
	// A wwwauth[] line longer than any buffer, then host=.
	"protocol=https\nwwwauth[]=" + strings.Repeat("B", MaxLineLength+10) + "\nhost=github.com\n",
	"protocol=https\nwwwauth[]=" + strings.Repeat("B", 5000) + "\nhost=github.com\n",
	// Huge input made of valid lines, over the 1 MiB bound.
	strings.Repeat("capability[]=authtype\n", maxRequestSize/20),
}

// seedsFor returns the seeds to add. Under -fuzz it leaves out seeds over 4 KiB: the
// fuzzer would spend its time minimizing their descendants instead of running. A plain
// `go test` still runs every seed through the target's checks.
func seedsFor() []string {
	fuzzing := false
	if fl := flag.Lookup("test.fuzz"); fl != nil && fl.Value.String() != "" {
		fuzzing = true
	}
	var seeds []string
	for _, s := range fuzzSeeds {
		if !fuzzing || len(s) <= 4<<10 {
			seeds = append(seeds, s)
		}
	}
	return seeds
}

// FuzzReadRequest checks that ReadRequest never panics and that whatever it accepts is
// representable in the protocol, with a plausible host.
func FuzzReadRequest(f *testing.F) {
	for _, s := range seedsFor() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := ReadRequest(bytes.NewReader(data))
		if err != nil {
			if req != nil {
				t.Fatal("request returned with an error")
			}
			if msg := err.Error(); strings.ContainsAny(msg, "\n\r\x00") || !strings.HasPrefix(msg, "credential: ") {
				t.Fatalf("error %q is not one prefixed line", msg)
			}
			return
		}
		values := append([]string{req.Protocol, req.Host, req.Path, req.Username, req.Password, req.PasswordExpiryUTC},
			append(req.WWWAuth, req.Capability...)...)
		for _, v := range values {
			if strings.ContainsAny(v, "\n\r\x00") {
				t.Fatalf("accepted value %q with LF, CR or NUL", v)
			}
			if len(v) > MaxLineLength {
				t.Fatalf("accepted a value of %d bytes", len(v))
			}
		}
		if strings.ContainsAny(req.Host, "/@\\ \t") {
			t.Fatalf("accepted host %q", req.Host)
		}
		for _, list := range [][]string{req.WWWAuth, req.Capability} {
			for _, v := range list {
				if v == "" {
					t.Fatal("empty array entry kept")
				}
			}
		}
		if len(data) > maxRequestSize && bytes.Index(data, []byte("\n\n")) < 0 && data[0] != '\n' {
			t.Fatalf("accepted %d bytes without a blank line", len(data))
		}
	})
}

// fuzzHelper answers every Get with a token, whatever the request, and records calls.
type fuzzHelper struct {
	gets, erases []Request
}

const fuzzToken = "ghs_FUZZTOKEN"

func (f *fuzzHelper) Get(_ context.Context, req *Request) (*Credential, error) {
	f.gets = append(f.gets, *req)
	// The path goes into the password so that a value ReadRequest let through unchecked
	// would reach Credential.Write.
	return &Credential{Username: TokenUsername, Password: fuzzToken + req.Path, PasswordExpiry: time.Unix(1893553445, 0)}, nil
}

func (f *fuzzHelper) Erase(_ context.Context, req *Request) error {
	f.erases = append(f.erases, *req)
	return nil
}

var fuzzOps = []string{"get", "erase", "store", "capability"}

// servedByOracle is an independent, deliberately simple statement of the host rule for
// the configured host "github.com".
func servedByOracle(req Request) bool {
	host := strings.ToLower(req.Host)
	return req.Protocol == "https" && (host == "github.com" || host == "github.com:443") &&
		(req.Username == "" || req.Username == TokenUsername)
}

// FuzzHandle checks Handle's promises: no panic; output only for get on a served request,
// and then exactly the three expected lines; no output together with an error; the
// helper is asked only about served requests; errors are one line without the token.
func FuzzHandle(f *testing.F) {
	for _, s := range seedsFor() {
		for op := range fuzzOps {
			f.Add(uint8(op), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, opIndex uint8, data []byte) {
		op := fuzzOps[int(opIndex)%len(fuzzOps)]
		helper := &fuzzHelper{}
		h := &Handler{Host: "github.com", Helper: helper}
		var out bytes.Buffer
		err := h.Handle(t.Context(), op, bytes.NewReader(data), &out)

		if err != nil {
			if out.Len() != 0 {
				t.Fatalf("wrote %q and returned error %v", out.String(), err)
			}
			if msg := err.Error(); msg == "" || strings.ContainsAny(msg, "\n\r\x00") || strings.Contains(msg, fuzzToken) {
				t.Fatalf("bad error text %q", msg)
			}
		}
		if op == "store" || op == "capability" {
			if err != nil || out.Len() != 0 || len(helper.gets)+len(helper.erases) != 0 {
				t.Fatalf("%s: err %v, out %q, helper called", op, err, out.String())
			}
			return
		}
		for _, req := range append(append([]Request(nil), helper.gets...), helper.erases...) {
			if !servedByOracle(req) {
				t.Fatalf("helper asked about a request that is not served: %#v", req)
			}
		}
		if op == "erase" {
			if out.Len() != 0 || len(helper.gets) != 0 {
				t.Fatalf("erase wrote %q or called Get", out.String())
			}
			for _, req := range helper.erases {
				if req.Password == "" {
					t.Fatal("Erase called without a password")
				}
			}
			return
		}
		if len(helper.erases) != 0 || len(helper.gets) > 1 {
			t.Fatalf("get: %d Get and %d Erase calls", len(helper.gets), len(helper.erases))
		}
		if out.Len() == 0 {
			return
		}
		if len(helper.gets) != 1 {
			t.Fatal("output without a Get call")
		}
		want := "username=x-access-token\npassword=" + fuzzToken + helper.gets[0].Path + "\npassword_expiry_utc=1893553445\n"
		if out.String() != want {
			t.Fatalf("out = %q, want %q", out.String(), want)
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != 3 {
			t.Fatalf("out has %d lines", len(lines))
		}
		for _, l := range lines {
			if strings.ContainsAny(l, "\r\x00") {
				t.Fatalf("out line %q has CR or NUL", l)
			}
		}
		// The same bytes, parsed again, must be served too: Handle and ReadRequest agree.
		again, rerr := ReadRequest(bytes.NewReader(data))
		if rerr != nil || !servedByOracle(*again) {
			t.Fatalf("served a request that a second reading rejects or does not serve: %v", rerr)
		}
	})
}

// FuzzRequestFromURL checks that RequestFromURL never panics and returns only requests
// whose values are representable, with a plausible host.
func FuzzRequestFromURL(f *testing.F) {
	for _, s := range []string{
		"acme/app", "github.com/acme/app", "https://github.com/acme/app.git", "https://a:b@github.com:443/x/",
		"https://github.com%0a/x", "acme/..", "git@github.com:acme/app.git", "https://a@b@c/", "%00/x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		req, err := RequestFromURL(s)
		if err != nil {
			if req != nil || strings.ContainsAny(err.Error(), "\n\r\x00") {
				t.Fatalf("bad failure: %#v, %q", req, err)
			}
			return
		}
		for _, v := range []string{req.Protocol, req.Host, req.Path, req.Username, req.Password} {
			if strings.ContainsAny(v, "\n\r\x00") {
				t.Fatalf("value %q with LF, CR or NUL", v)
			}
		}
		if strings.ContainsAny(req.Host, "/@\\ \t") || (req.Host == "" && req.Protocol != "https") {
			t.Fatalf("bad host %q for protocol %q", req.Host, req.Protocol)
		}
	})
}

// Make sure the fuzz helper satisfies Helper.
var _ Helper = (*fuzzHelper)(nil)
