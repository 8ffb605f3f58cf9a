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
	"context"
	"crypto"
	"crypto/rsa"
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

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth/internal/kmsrest"
)

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
// later call has a timeout of its own (kmsrest.CallTimeout).
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
		return nil, fmt.Errorf("hashivault: VAULT_ADDR %q is not an http(s) URL", kmsrest.Clip(addr))
	}
	if u.Scheme == "http" && !kmsrest.IsLoopback(u.Hostname()) {
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
	// Later calls keep its values but not its end; each has kmsrest.CallTimeout.
	s.ctx = context.WithoutCancel(ctx)
	return s, nil
}

// parseURI returns KEY from hashivault://KEY.
func parseURI(uri string) (string, error) {
	const scheme = "hashivault://"
	rest, ok := strings.CutPrefix(uri, scheme)
	if !ok {
		return "", fmt.Errorf("hashivault: signer %q does not start with %s; write hashivault://KEY", kmsrest.Clip(uri), scheme)
	}
	if !kmsrest.CharsetOK(rest, 128, "_.-") || rest == "." || rest == ".." {
		return "", fmt.Errorf("hashivault: signer %q: the key name must be 1-128 letters, digits, '_', '-' or '.'; write hashivault://KEY", kmsrest.Clip(uri))
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
	ca := os.Getenv("VAULT_CACERT")
	if ca == "" {
		return kmsrest.NewClient(nil), nil
	}
	pemBytes, err := os.ReadFile(ca)
	if err != nil {
		return nil, fmt.Errorf("hashivault: cannot read VAULT_CACERT: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("hashivault: VAULT_CACERT %s holds no PEM certificate", ca)
	}
	return kmsrest.NewClient(pool), nil
}

// Public returns the RSA public key of the key version this signer uses.
func (s *Signer) Public() crypto.PublicKey { return s.pub }

// Sign asks Vault for an RSASSA-PKCS1-v1_5 signature over digest, which must be a SHA-256
// digest (opts.HashFunc() == crypto.SHA256). rand is not used: Vault makes the signature.
func (s *Signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if err := kmsrest.CheckDigest("hashivault", digest, opts); err != nil {
		return nil, err
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
	if !kmsrest.Verifies(s.pub, digest, sig) {
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
	ctx, cancel := context.WithTimeout(s.ctx, kmsrest.CallTimeout)
	defer cancel()
	header := http.Header{"X-Vault-Token": {s.token}, "X-Vault-Request": {"true"}}
	if s.namespace != "" {
		header.Set("X-Vault-Namespace", s.namespace)
	}
	status, data, err := kmsrest.Do(ctx, s.client, method, s.addr+"/v1/"+s.mount+"/"+path, in, header)
	var ne *kmsrest.NetError
	switch {
	case errors.As(err, &ne) && ne.Reading:
		return fmt.Errorf("hashivault: reading Vault's answer from %s: %s", s.addr, ne.Cause)
	case errors.As(err, &ne):
		return fmt.Errorf("hashivault: cannot reach Vault at %s: %s; check VAULT_ADDR, the network and VAULT_CACERT", s.addr, ne.Cause)
	case err != nil:
		return fmt.Errorf("hashivault: %v", err)
	}
	if status/100 != 2 {
		var e struct {
			Errors []string `json:"errors"`
		}
		_ = json.Unmarshal(data, &e)
		msg := kmsrest.OneLine(strings.Join(e.Errors, "; "))
		switch {
		case status == http.StatusForbidden:
			return fmt.Errorf("hashivault: permission denied for transit key %q: the token's policy needs %s (and update on %s/sign/%s, read on %s/keys/%s), or the token expired (renew it or `vault login`)", s.name, need, s.mount, s.name, s.mount, s.name)
		case status == http.StatusNotFound && method == http.MethodGet:
			return fmt.Errorf("hashivault: Vault has no transit key %q under %s/ (import the GitHub App's key: vault transit import %s/keys/%s @KEY.b64 type=rsa-2048, see README; a key vault creates itself is not the app's)", s.name, s.mount, s.mount, s.name)
		case msg != "":
			return fmt.Errorf("hashivault: Vault refused (HTTP %d) for transit key %q: %s", status, s.name, msg)
		default:
			return fmt.Errorf("hashivault: Vault answered HTTP %d for transit key %q", status, s.name)
		}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("hashivault: Vault's answer is not the JSON expected: %v", err)
	}
	return nil
}
