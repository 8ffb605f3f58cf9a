package fakekms

// The fake Vault follows HashiCorp's "Transit secrets engine (API)" page,
// https://developer.hashicorp.com/vault/api-docs/secret/transit, and Vault's HTTP API overview,
// https://developer.hashicorp.com/vault/api-docs (token in X-Vault-Token, errors as
// {"errors":[...]}, namespaces in X-Vault-Namespace).

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// VaultKey is one transit key. Keys of type rsa-2048/3072/4096 sign; any other Type is listed
// by "read key" but refuses to sign as Vault does (ecdsa-p256, ed25519, aes256-gcm96, ...).
type VaultKey struct {
	Type string
	// Versions are the key's versions, oldest first (version 1 is Versions[0]).
	Versions []*rsa.PrivateKey
	// Policy denies the token what a policy without the named capability would: "sign" denies
	// update on transit/sign/KEY, "read" denies read on transit/keys/KEY.
	Deny map[string]bool
}

// Vault is a running fake Vault server with the transit engine mounted at Mount.
type Vault struct {
	URL   string // VAULT_ADDR
	Token string // the one token it accepts
	// Namespace, when set, must arrive in X-Vault-Namespace (Vault Enterprise / HCP).
	Namespace string
	Mount     string

	srv *server
	mu  sync.Mutex
	key map[string]*VaultKey
	// Signs counts successful sign requests.
	signs int
}

// NewVault starts a fake Vault on 127.0.0.1 with transit mounted at "transit".
func NewVault() (*Vault, error) {
	v := &Vault{Token: newToken("hvs."), Mount: "transit", key: map[string]*VaultKey{}}
	s, err := listen(http.HandlerFunc(v.serve))
	if err != nil {
		return nil, err
	}
	v.srv, v.URL = s, s.URL
	return v, nil
}

// Close stops the server.
func (v *Vault) Close() { v.srv.close() }

// AddKey stores a transit key under name.
func (v *Vault) AddKey(name string, k *VaultKey) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.key[name] = k
}

// Signs returns how many signatures the fake has made.
func (v *Vault) Signs() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.signs
}

// vaultErr writes Vault's error shape: {"errors":["..."]}.
func vaultErr(w http.ResponseWriter, status int, msgs ...string) {
	if msgs == nil {
		msgs = []string{}
	}
	writeJSON(w, status, map[string]any{"errors": msgs})
}

func (v *Vault) serve(w http.ResponseWriter, r *http.Request) {
	// A missing or unknown token is 403 "permission denied" in Vault (not 401).
	if r.Header.Get("X-Vault-Token") != v.Token {
		vaultErr(w, http.StatusForbidden, "permission denied")
		return
	}
	if v.Namespace != "" && r.Header.Get("X-Vault-Namespace") != v.Namespace {
		vaultErr(w, http.StatusForbidden, "permission denied")
		return
	}
	prefix := "/v1/" + v.Mount + "/"
	rest, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok {
		vaultErr(w, http.StatusNotFound, "no handler for route \""+strings.TrimPrefix(r.URL.Path, "/v1/")+"\". route entry not found.")
		return
	}
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(rest, "keys/"):
		v.readKey(w, strings.TrimPrefix(rest, "keys/"))
	case (r.Method == http.MethodPost || r.Method == http.MethodPut) && strings.HasPrefix(rest, "sign/"):
		v.sign(w, r, strings.TrimPrefix(rest, "sign/"))
	default:
		vaultErr(w, http.StatusMethodNotAllowed, "1 error occurred:\n\t* unsupported operation\n\n")
	}
}

// readKey serves GET /:mount/keys/:name: "Read key". For asymmetric keys every version in
// data.keys carries public_key (PEM) and name (the key type); data.latest_version names the newest.
func (v *Vault) readKey(w http.ResponseWriter, name string) {
	v.mu.Lock()
	k := v.key[name]
	v.mu.Unlock()
	if k == nil {
		vaultErr(w, http.StatusNotFound) // Vault answers a missing key with 404 and no message
		return
	}
	if k.Deny["read"] {
		vaultErr(w, http.StatusForbidden, "1 error occurred:\n\t* permission denied\n\n")
		return
	}
	keys := map[string]any{}
	for i, pk := range k.Versions {
		entry := map[string]any{"name": k.Type, "creation_time": time.Now().UTC().Format(time.RFC3339Nano)}
		if pk != nil {
			der, _ := x509.MarshalPKIXPublicKey(&pk.PublicKey)
			entry["public_key"] = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		}
		keys[fmt.Sprint(i+1)] = entry
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{
		"name":             name,
		"type":             k.Type,
		"keys":             keys,
		"latest_version":   len(k.Versions),
		"exportable":       false,
		"supports_signing": strings.HasPrefix(k.Type, "rsa-") || strings.HasPrefix(k.Type, "ecdsa-") || k.Type == "ed25519",
	}})
}

// sign serves POST /:mount/sign/:name(/:hash_algorithm): "Sign data". input is base64; with
// prehashed=true it is the digest itself, otherwise Vault hashes it with hash_algorithm
// (default sha2-256). RSA keys sign with signature_algorithm "pss" (the default) or "pkcs1v15".
// The answer is data.signature = "vault:vN:" + base64 of the signature.
func (v *Vault) sign(w http.ResponseWriter, r *http.Request, path string) {
	name, hashAlg, _ := strings.Cut(path, "/")
	var body struct {
		Input              string `json:"input"`
		Prehashed          bool   `json:"prehashed"`
		HashAlgorithm      string `json:"hash_algorithm"`
		SignatureAlgorithm string `json:"signature_algorithm"`
		KeyVersion         int    `json:"key_version"`
	}
	if err := readJSON(r, &body); err != nil {
		vaultErr(w, http.StatusBadRequest, "failed to parse JSON input: "+err.Error())
		return
	}
	if body.HashAlgorithm != "" {
		hashAlg = body.HashAlgorithm
	}
	if hashAlg == "" {
		hashAlg = "sha2-256"
	}
	v.mu.Lock()
	k := v.key[name]
	v.mu.Unlock()
	if k == nil {
		vaultErr(w, http.StatusBadRequest, "signing key not found")
		return
	}
	if k.Deny["sign"] {
		vaultErr(w, http.StatusForbidden, "1 error occurred:\n\t* permission denied\n\n")
		return
	}
	if !strings.HasPrefix(k.Type, "rsa-") {
		vaultErr(w, http.StatusBadRequest, fmt.Sprintf("key type %s does not support signing", k.Type))
		return
	}
	if hashAlg != "sha2-256" {
		// Only sha2-256 is modelled; Vault accepts others, which this helper never sends.
		vaultErr(w, http.StatusBadRequest, fmt.Sprintf("unsupported hash algorithm %s", hashAlg))
		return
	}
	sigAlg := body.SignatureAlgorithm
	if sigAlg == "" {
		sigAlg = "pss"
	}
	input, err := base64.StdEncoding.DecodeString(body.Input)
	if err != nil {
		vaultErr(w, http.StatusBadRequest, "unable to decode input as base64: "+err.Error())
		return
	}
	digest := input
	if !body.Prehashed {
		sum := sha256.Sum256(input)
		digest = sum[:]
	} else if len(digest) != sha256.Size {
		vaultErr(w, http.StatusBadRequest, "1 error occurred:\n\t* crypto/rsa: input must be hashed message\n\n")
		return
	}
	ver := body.KeyVersion
	if ver == 0 {
		ver = len(k.Versions)
	}
	if ver < 1 || ver > len(k.Versions) || k.Versions[ver-1] == nil {
		vaultErr(w, http.StatusBadRequest, "1 error occurred:\n\t* invalid key version\n\n")
		return
	}
	priv := k.Versions[ver-1]
	var sig []byte
	switch sigAlg {
	case "pkcs1v15":
		sig, err = rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, digest)
	case "pss":
		sig, err = rsa.SignPSS(rand.Reader, priv, crypto.SHA256, digest, nil)
	default:
		vaultErr(w, http.StatusBadRequest, fmt.Sprintf("1 error occurred:\n\t* unsupported rsa signature algorithm %s\n\n", sigAlg))
		return
	}
	if err != nil {
		vaultErr(w, http.StatusInternalServerError, err.Error())
		return
	}
	v.mu.Lock()
	v.signs++
	v.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{
		"signature":   fmt.Sprintf("vault:v%d:%s", ver, base64.StdEncoding.EncodeToString(sig)),
		"key_version": ver,
	}})
}

// StartVault starts a fake Vault holding key as transit key "ghapp" (type rsa-BITS, one version)
// and returns it with the signer URI and the environment a helper process needs to sign with it
// (VAULT_ADDR, VAULT_TOKEN, VAULT_CACERT). The caller closes it.
func StartVault(key *rsa.PrivateKey) (v *Vault, uri string, env []string, err error) {
	v, err = NewVault()
	if err != nil {
		return nil, "", nil, err
	}
	v.AddKey("ghapp", &VaultKey{Type: fmt.Sprintf("rsa-%d", key.N.BitLen()), Versions: []*rsa.PrivateKey{key}})
	ca, err := CAFile()
	if err != nil {
		v.Close()
		return nil, "", nil, err
	}
	return v, "hashivault://ghapp", []string{"VAULT_ADDR=" + v.URL, "VAULT_TOKEN=" + v.Token, "VAULT_CACERT=" + ca}, nil
}
