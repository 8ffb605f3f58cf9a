// Package kmsrest holds what the REST key-store signers (gcpkms, azurekms, hashivault) do the
// same way: the per-call time limit and the HTTP client that keeps it, one JSON round trip, the
// RS256 checks of Sign's arguments, and the helpers that keep error text on one short line
// without secrets. Each back-end keeps its own API rules, credentials and error wording.
package kmsrest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// CallTimeout bounds each request to a key store and each token request (a variable for tests).
var CallTimeout = 10 * time.Second

// NewClient returns an HTTP client whose every request is bounded by CallTimeout. With roots, it
// trusts those CAs only (TLS 1.2 or later); without, the system roots. It follows a redirect only
// to https, or within the plain-http origin it started on (a loopback Vault agent, a metadata
// server): a store's credential (X-Vault-Token, which Go's client sends on across hosts, or an
// Authorization header) never goes onto the network in the clear.
func NewClient(roots *x509.CertPool) *http.Client {
	c := &http.Client{Timeout: CallTimeout, CheckRedirect: checkRedirect}
	if roots != nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
		c.Transport = tr
	}
	return c
}

// checkRedirect refuses a redirect that would leave https (Vault's own client refuses such a
// protocol downgrade too), or leave the plain-http origin the request started on, and keeps Go's
// limit of 10 redirects.
func checkRedirect(req *http.Request, via []*http.Request) error {
	first := via[0].URL
	if req.URL.Scheme != "https" && (req.URL.Scheme != first.Scheme || !strings.EqualFold(req.URL.Host, first.Host)) {
		return fmt.Errorf("a redirect from %s://%s to %s://%s would send the credential in the clear; not following it",
			first.Scheme, first.Host, req.URL.Scheme, req.URL.Host)
	}
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	return nil
}

// NetError is a request that did not get a whole answer: the store could not be reached
// (Reading false), or the answer broke off (Reading true). Cause is NetCause's description.
type NetError struct {
	Reading bool
	Cause   string
}

func (e *NetError) Error() string { return e.Cause }

// Do sends one request under ctx, in (when not nil) as its JSON body, with header added, and
// returns the answer's status and body (at most 1 MiB). A transport failure is a *NetError; any
// other error is the request's making.
func Do(ctx context.Context, client *http.Client, method, rawURL string, in any, header http.Header) (int, []byte, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, body)
	if err != nil {
		return 0, nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, &NetError{Cause: NetCause(err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, &NetError{Reading: true, Cause: NetCause(err)}
	}
	return resp.StatusCode, data, nil
}

// CheckDigest refuses what an RS256 signature is not made of: another hash, a digest that is
// not 32 bytes, or PSS. name starts each message ("gcpkms").
func CheckDigest(name string, digest []byte, opts crypto.SignerOpts) error {
	if opts == nil || opts.HashFunc() != crypto.SHA256 {
		return errors.New(name + ": only SHA-256 digests are signed (RS256)")
	}
	if _, pss := opts.(*rsa.PSSOptions); pss {
		return errors.New(name + ": only RSASSA-PKCS1-v1_5 signatures are made (RS256), not PSS")
	}
	if len(digest) != sha256.Size {
		return fmt.Errorf("%s: the digest is %d bytes; a SHA-256 digest is 32", name, len(digest))
	}
	return nil
}

// Verifies reports whether sig, as a store answered it, is pub's RS256 signature of digest.
func Verifies(pub *rsa.PublicKey, digest, sig []byte) bool {
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest, sig) == nil
}

// NetCause is the innermost, token-free description of a transport error.
func NetCause(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Client.Timeout") {
		return "no answer within " + CallTimeout.String()
	}
	return OneLine(err.Error())
}

// OneLine folds s onto one line and bounds its length.
func OneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// Clip bounds a user-written value (a URI, a host) for an error message.
func Clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// IsLoopback reports whether host (without a port or brackets) is "localhost" or a loopback
// address (127.0.0.0/8, ::1). A DNS name that only starts with "127." is not: anyone can make
// one point anywhere.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CharsetOK reports whether s has between 1 and max bytes, each a letter, a digit or one of
// extra. (A hand-written check: a compiled regexp would cost the helper's start-up ~0.5 ms.)
func CharsetOK(s string, max int, extra string) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(extra, c) >= 0) {
			return false
		}
	}
	return true
}
