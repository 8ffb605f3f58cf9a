// Package hashivault signs a GitHub App's JWT with an RSA key held in HashiCorp Vault's transit
// secrets engine, so the key never leaves Vault. It speaks Vault's HTTP API with net/http:
// https://developer.hashicorp.com/vault/api-docs/secret/transit.
//
// The signer URI is cosign's form, hashivault://KEY. The server and credentials come from
// Vault's standard environment: VAULT_ADDR (required), VAULT_TOKEN (or the token file
// ~/.vault-token that `vault login` writes), VAULT_NAMESPACE and VAULT_CACERT. The transit
// mount is "transit", or TRANSIT_SECRET_ENGINE_PATH as cosign reads it.
package hashivault

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// callTimeout bounds each request to Vault (a variable for tests).
var callTimeout = 10 * time.Second

// charsetOK reports whether s has between 1 and max bytes, each a letter, a digit or one of
// extra. (A hand-written check: a compiled regexp would cost the helper's start-up ~0.5 ms.)
func charsetOK(s string, max int, extra string) bool {
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

// Signer is a crypto.Signer backed by one version of a transit key.
type Signer struct {
	ctx       context.Context
	client    *http.Client
	addr      string // VAULT_ADDR without a trailing slash
	token     string
	namespace string
	mount     string
	name      string
	version   int
	pub       *rsa.PublicKey
}

// New returns a signer for uri (hashivault://KEY). It reads the key's newest version's public key
// from Vault (GET /v1/transit/keys/KEY), so it fails early, with one line naming the fix, when
// VAULT_ADDR or the token is missing, Vault cannot be reached, the policy lacks read on
// transit/keys/KEY, or the key is not an RSA key of 2048, 3072 or 4096 bits. ctx bounds New; each
// later call has a timeout of its own (callTimeout).
func New(ctx context.Context, uri string) (crypto.Signer, error) {
	name, err := parseURI(uri)
	if err != nil {
		return nil, err
	}
	addr := strings.TrimRight(strings.TrimSpace(os.Getenv("VAULT_ADDR")), "/")
	if addr == "" {
		return nil, errors.New("hashivault: VAULT_ADDR is not set; set it to your Vault server, e.g. https://vault.example.com:8200")
	}
	u, err := url.Parse(addr)
	if err == nil && u.User != nil {
		return nil, errors.New("hashivault: VAULT_ADDR carries a user name or password; remove it (the token goes in VAULT_TOKEN)")
	}
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("hashivault: VAULT_ADDR %q is not an http(s) URL", clip(addr))
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		// The token and the signatures would cross the network in the clear.
		return nil, fmt.Errorf("hashivault: VAULT_ADDR %q is plain http; use https (plain http is allowed only to a loopback address, e.g. a local Vault agent)", addr)
	}
	token, err := findToken()
	if err != nil {
		return nil, err
	}
	client, err := newClient()
	if err != nil {
		return nil, err
	}
	mount := strings.Trim(os.Getenv("TRANSIT_SECRET_ENGINE_PATH"), "/")
	if mount == "" {
		mount = "transit"
	}
	s := &Signer{
		ctx:       ctx,
		client:    client,
		addr:      addr,
		token:     token,
		namespace: strings.TrimSpace(os.Getenv("VAULT_NAMESPACE")),
		mount:     mount,
		name:      name,
	}
	if err := s.readKey(); err != nil {
		return nil, err
	}
	// New's context bounds New only (keystore's contract): the helper opens the signer under
	// the request's deadline and cancels that context once it is open, before the mint signs.
	// Later calls keep its values but not its end; each has callTimeout.
	s.ctx = context.WithoutCancel(ctx)
	return s, nil
}

// parseURI returns KEY from hashivault://KEY.
func parseURI(uri string) (string, error) {
	const scheme = "hashivault://"
	rest, ok := strings.CutPrefix(uri, scheme)
	if !ok {
		return "", fmt.Errorf("hashivault: signer %q does not start with %s; write hashivault://KEY", clip(uri), scheme)
	}
	if !charsetOK(rest, 128, "_.-") || rest == "." || rest == ".." {
		return "", fmt.Errorf("hashivault: signer %q: the key name must be 1-128 letters, digits, '_', '-' or '.'; write hashivault://KEY", clip(uri))
	}
	return rest, nil
}

// findToken returns VAULT_TOKEN, or the token `vault login` keeps in ~/.vault-token.
func findToken() (string, error) {
	if t := strings.TrimSpace(os.Getenv("VAULT_TOKEN")); t != "" {
		return t, nil
	}
	if home, err := os.UserHomeDir(); err == nil {
		if b, err := os.ReadFile(filepath.Join(home, ".vault-token")); err == nil {
			if t := strings.TrimSpace(string(b)); t != "" {
				return t, nil
			}
		}
	}
	return "", errors.New("hashivault: no Vault token: set VAULT_TOKEN or run `vault login` (which writes ~/.vault-token)")
}

// newClient returns an HTTP client trusting VAULT_CACERT when set (a PEM file), else the
// system roots.
func newClient() (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if ca := os.Getenv("VAULT_CACERT"); ca != "" {
		pemBytes, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("hashivault: cannot read VAULT_CACERT: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemBytes) {
			return nil, fmt.Errorf("hashivault: VAULT_CACERT %s holds no PEM certificate", ca)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr}, nil
}

// Public returns the RSA public key of the key version this signer uses.
func (s *Signer) Public() crypto.PublicKey { return s.pub }

// Sign asks Vault for an RSASSA-PKCS1-v1_5 signature over digest, which must be a SHA-256
// digest (opts.HashFunc() == crypto.SHA256). rand is not used: Vault makes the signature.
func (s *Signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts == nil || opts.HashFunc() != crypto.SHA256 {
		return nil, errors.New("hashivault: only SHA-256 digests are signed (RS256)")
	}
	if _, pss := opts.(*rsa.PSSOptions); pss {
		return nil, errors.New("hashivault: only RSASSA-PKCS1-v1_5 signatures are made (RS256), not PSS")
	}
	if len(digest) != sha256.Size {
		return nil, fmt.Errorf("hashivault: the digest is %d bytes; a SHA-256 digest is 32", len(digest))
	}
	// prehashed=true: input is the digest itself; signature_algorithm=pkcs1v15 (the RSA default
	// is PSS); key_version pins the version whose public key New read.
	req := map[string]any{
		"input":               base64.StdEncoding.EncodeToString(digest),
		"prehashed":           true,
		"hash_algorithm":      "sha2-256",
		"signature_algorithm": "pkcs1v15",
		"key_version":         s.version,
	}
	var resp struct {
		Data struct {
			Signature string `json:"signature"`
		} `json:"data"`
	}
	if err := s.call(http.MethodPost, "sign/"+s.name, req, &resp, "update on "+s.mount+"/sign/"+s.name); err != nil {
		return nil, err
	}
	// "vault:v1:BASE64"
	parts := strings.SplitN(resp.Data.Signature, ":", 3)
	if len(parts) != 3 || parts[0] != "vault" || !strings.HasPrefix(parts[1], "v") {
		return nil, errors.New("hashivault: Vault answered a signature that is not vault:vN:BASE64")
	}
	sig, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, errors.New("hashivault: Vault answered a signature that is not base64")
	}
	if err := rsa.VerifyPKCS1v15(s.pub, crypto.SHA256, digest, sig); err != nil {
		return nil, fmt.Errorf("hashivault: the signature from key %q does not verify with its public key; check that Vault signs with pkcs1v15", s.name)
	}
	return sig, nil
}

// readKey fetches the newest version's public key and checks the key type.
func (s *Signer) readKey() error {
	var resp struct {
		Data struct {
			Type          string `json:"type"`
			LatestVersion int    `json:"latest_version"`
			Keys          map[string]json.RawMessage
		} `json:"data"`
	}
	if err := s.call(http.MethodGet, "keys/"+s.name, nil, &resp, "read on "+s.mount+"/keys/"+s.name); err != nil {
		return err
	}
	d := resp.Data
	switch d.Type {
	case "rsa-2048", "rsa-3072", "rsa-4096":
	default:
		return fmt.Errorf("hashivault: transit key %q is of type %q; GitHub App JWTs need type rsa-2048, rsa-3072 or rsa-4096 (import the app's PEM into such a key)", s.name, d.Type)
	}
	raw, ok := d.Keys[strconv.Itoa(d.LatestVersion)]
	if !ok {
		return fmt.Errorf("hashivault: Vault lists no version %d of transit key %q", d.LatestVersion, s.name)
	}
	var ver struct {
		PublicKey string `json:"public_key"`
	}
	_ = json.Unmarshal(raw, &ver)
	block, _ := pem.Decode([]byte(ver.PublicKey))
	if block == nil {
		return fmt.Errorf("hashivault: Vault gave no public key for transit key %q version %d", s.name, d.LatestVersion)
	}
	pk, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return fmt.Errorf("hashivault: the public key of transit key %q does not parse: %v", s.name, err)
	}
	rpk, ok := pk.(*rsa.PublicKey)
	if !ok || (rpk.N.BitLen() != 2048 && rpk.N.BitLen() != 3072 && rpk.N.BitLen() != 4096) {
		return fmt.Errorf("hashivault: transit key %q version %d is not an RSA key of 2048, 3072 or 4096 bits", s.name, d.LatestVersion)
	}
	s.pub, s.version = rpk, d.LatestVersion
	return nil
}

// call sends one request to /v1/MOUNT/PATH and decodes the JSON answer into out. need names the
// policy capability the call requires, for the permission error.
func (s *Signer) call(method, path string, in, out any, need string) error {
	ctx, cancel := context.WithTimeout(s.ctx, callTimeout)
	defer cancel()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("hashivault: %v", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.addr+"/v1/"+s.mount+"/"+path, body)
	if err != nil {
		return fmt.Errorf("hashivault: %v", err)
	}
	req.Header.Set("X-Vault-Token", s.token)
	req.Header.Set("X-Vault-Request", "true")
	if s.namespace != "" {
		req.Header.Set("X-Vault-Namespace", s.namespace)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("hashivault: cannot reach Vault at %s: %s; check VAULT_ADDR, the network and VAULT_CACERT", s.addr, netCause(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("hashivault: reading Vault's answer from %s: %s", s.addr, netCause(err))
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Errors []string `json:"errors"`
		}
		_ = json.Unmarshal(data, &e)
		msg := oneLine(strings.Join(e.Errors, "; "))
		switch {
		case resp.StatusCode == http.StatusForbidden:
			return fmt.Errorf("hashivault: permission denied for transit key %q: the token's policy needs %s (and update on %s/sign/%s, read on %s/keys/%s), or the token expired (renew it or `vault login`)", s.name, need, s.mount, s.name, s.mount, s.name)
		case resp.StatusCode == http.StatusNotFound && method == http.MethodGet:
			return fmt.Errorf("hashivault: Vault has no transit key %q under %s/ (create or import it: vault write %s/keys/%s type=rsa-2048 ..., see README)", s.name, s.mount, s.mount, s.name)
		case msg != "":
			return fmt.Errorf("hashivault: Vault refused (HTTP %d) for transit key %q: %s", resp.StatusCode, s.name, msg)
		default:
			return fmt.Errorf("hashivault: Vault answered HTTP %d for transit key %q", resp.StatusCode, s.name)
		}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("hashivault: Vault's answer is not the JSON expected: %v", err)
	}
	return nil
}

// netCause is the innermost, token-free description of a transport error.
func netCause(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer within " + callTimeout.String()
	}
	return oneLine(err.Error())
}

// oneLine folds s onto one line and bounds its length.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// clip bounds a user-written URI for an error message.
func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1" || strings.HasPrefix(host, "127.")
}
