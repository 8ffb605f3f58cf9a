// Package azurekms signs a GitHub App's JWT with an RSA key held in Azure Key Vault (or a
// Managed HSM), so the key never leaves the vault. It calls the Key Vault REST API (7.4) with
// net/http and takes an access token from azidentity's DefaultAzureCredential: environment
// (AZURE_TENANT_ID, AZURE_CLIENT_ID with AZURE_CLIENT_SECRET or a certificate), workload
// identity, managed identity, then the Azure CLI and Developer CLI logins. The azkeys client is
// not used: for two REST calls it would add 1.4 MB to the helper.
//
// The signer URI is cosign's form, azurekms://VAULT.vault.azure.net/KEY, optionally followed by
// /VERSION; without a version the newest version is used. The vault host must be a Key Vault or
// Managed HSM host of an Azure cloud, or a loopback address (a local proxy, or tests).
package azurekms

import (
	"context"
	"crypto"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/git-credential-ghapp/git-credential-ghapp/appauth/internal/kmsrest"
)

const (
	// apiVersion is the Key Vault REST API version used.
	apiVersion = "7.4"
)

// vaultSuffixes maps each Azure cloud's Key Vault DNS suffix to the token scope for it
// (https://learn.microsoft.com/azure/key-vault/general/about-keys-secrets-certificates, "DNS
// suffixes for object identifiers"; Managed HSM: https://learn.microsoft.com/azure/key-vault/managed-hsm/).
var vaultSuffixes = map[string]string{
	".vault.azure.net":              "https://vault.azure.net/.default",
	".vault.azure.cn":               "https://vault.azure.cn/.default",
	".vault.usgovcloudapi.net":      "https://vault.usgovcloudapi.net/.default",
	".vault.microsoftazure.de":      "https://vault.microsoftazure.de/.default",
	".managedhsm.azure.net":         "https://managedhsm.azure.net/.default",
	".managedhsm.azure.cn":          "https://managedhsm.azure.cn/.default",
	".managedhsm.usgovcloudapi.net": "https://managedhsm.usgovcloudapi.net/.default",
}

// A Key Vault key name is 1-127 letters, digits and dashes; a version is 32 hex digits (up to
// 64 letters and digits accepted); a vault name is at most 63 letters, digits and dashes.
func validName(s string) bool    { return kmsrest.CharsetOK(s, 127, "-") }
func validVersion(s string) bool { return kmsrest.CharsetOK(s, 64, "") }
func validVault(s string) bool   { return kmsrest.CharsetOK(s, 63, "-") }

// microsoftAuthorities are the authority hosts Microsoft's instance discovery knows.
var microsoftAuthorities = []string{
	"login.microsoftonline.com", "login.chinacloudapi.cn", "login.microsoftonline.us",
	"login.microsoftonline.de", "login.windows.net", "login.microsoft.com", "sts.windows.net",
	"login-us.microsoftonline.com",
}

// Signer is a crypto.Signer backed by one version of a Key Vault key.
type Signer struct {
	ctx    context.Context
	client *http.Client
	cred   azcore.TokenCredential
	scope  string
	vault  string // https://HOST
	name   string
	kid    string // https://HOST/keys/NAME/VERSION, the version being used
	pub    *rsa.PublicKey
}

// New returns a signer for uri. It builds DefaultAzureCredential and reads the key (Get Key), so
// it fails early, with one line naming the fix, when no credential works, the vault cannot be
// reached, the caller lacks keys/read, or the key is not an RSA or RSA-HSM key of 2048, 3072 or
// 4096 bits allowed to sign. ctx bounds New; each later call has a timeout of its own
// (kmsrest.CallTimeout).
func New(ctx context.Context, uri string) (crypto.Signer, error) {
	host, name, version, scope, err := parseURI(uri)
	if err != nil {
		return nil, err
	}
	opts := &azidentity.DefaultAzureCredentialOptions{
		// Instance discovery asks login.microsoftonline.com to validate the authority host; for
		// an authority the user set that Microsoft does not know (Azure Stack, a private
		// cloud, tests) it can only fail, so it is skipped for those, as azidentity advises.
		DisableInstanceDiscovery: customAuthority(),
	}
	cred, err := azidentity.NewDefaultAzureCredential(opts)
	if err != nil {
		return nil, fmt.Errorf("azurekms: no Azure credentials: %s", kmsrest.OneLine(err.Error()))
	}
	s := &Signer{
		ctx:    ctx,
		client: kmsrest.NewClient(nil),
		cred:   cred,
		scope:  scope,
		vault:  "https://" + host,
		name:   name,
	}
	if err := s.getKey(version); err != nil {
		return nil, err
	}
	// New's context bounds New only (keystore's contract): the helper opens the signer under
	// the request's deadline and cancels that context once it is open, before the mint signs.
	// Later calls keep its values but not its end; each has kmsrest.CallTimeout.
	s.ctx = context.WithoutCancel(ctx)
	return s, nil
}

// parseURI splits azurekms://HOST/KEY[/VERSION] and returns the token scope for HOST.
func parseURI(uri string) (host, name, version, scope string, err error) {
	const scheme = "azurekms://"
	const form = "write azurekms://VAULT.vault.azure.net/KEY or azurekms://VAULT.vault.azure.net/KEY/VERSION"
	rest, ok := strings.CutPrefix(uri, scheme)
	if !ok {
		return "", "", "", "", fmt.Errorf("azurekms: signer %q does not start with %s; %s", kmsrest.Clip(uri), scheme, form)
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 2 || len(parts) > 3 {
		return "", "", "", "", fmt.Errorf("azurekms: signer %q is not a vault host and a key name; %s", kmsrest.Clip(uri), form)
	}
	host, name = strings.ToLower(parts[0]), parts[1]
	if len(parts) == 3 {
		version = parts[2]
		if !validVersion(version) {
			return "", "", "", "", fmt.Errorf("azurekms: signer %q: the key version must be letters and digits (as `az keyvault key list-versions` shows); %s", kmsrest.Clip(uri), form)
		}
	}
	if !validName(name) {
		return "", "", "", "", fmt.Errorf("azurekms: signer %q: a Key Vault key name is 1-127 letters, digits and dashes; %s", kmsrest.Clip(uri), form)
	}
	for suffix, sc := range vaultSuffixes {
		if v, ok := strings.CutSuffix(host, suffix); ok && validVault(v) {
			return host, name, version, sc, nil
		}
	}
	if h, port, err := net.SplitHostPort(host); err == nil && validPort(port) {
		if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
			return host, name, version, vaultSuffixes[".vault.azure.net"], nil
		}
	}
	return "", "", "", "", fmt.Errorf("azurekms: signer %q: %q is not a Key Vault host (VAULT.vault.azure.net or another Azure cloud's vault or managed HSM); %s", kmsrest.Clip(uri), kmsrest.Clip(host), form)
}

// validPort reports whether port is a TCP port number, 1 to 65535, in decimal digits only.
func validPort(port string) bool {
	n, err := strconv.Atoi(port)
	return err == nil && n >= 1 && n <= 65535 && strings.Trim(port, "0123456789") == ""
}

// customAuthority reports whether AZURE_AUTHORITY_HOST names a host Microsoft's instance
// discovery does not know.
func customAuthority() bool {
	v := os.Getenv("AZURE_AUTHORITY_HOST")
	if v == "" {
		return false
	}
	u, err := url.Parse(v)
	if err != nil {
		return false
	}
	return !slices.Contains(microsoftAuthorities, strings.ToLower(u.Hostname()))
}

// Public returns the RSA public key of the key version this signer uses.
func (s *Signer) Public() crypto.PublicKey { return s.pub }

// Sign asks Key Vault for an RS256 signature (RSASSA-PKCS1-v1_5 with SHA-256) over digest; the
// Sign operation takes the digest, not the message. rand is not used.
func (s *Signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if err := kmsrest.CheckDigest("azurekms", digest, opts); err != nil {
		return nil, err
	}
	var resp struct {
		Value string `json:"value"`
	}
	req := map[string]string{"alg": "RS256", "value": base64.RawURLEncoding.EncodeToString(digest)}
	if err := s.call(http.MethodPost, s.kid+"/sign", req, &resp, "sign"); err != nil {
		return nil, err
	}
	sig, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(resp.Value, "="))
	if err != nil {
		return nil, errors.New("azurekms: Key Vault answered a signature that is not base64url")
	}
	if !kmsrest.Verifies(s.pub, digest, sig) {
		return nil, fmt.Errorf("azurekms: the signature from key %q does not verify with its public key", s.name)
	}
	return sig, nil
}

// getKey reads the key (the given version, or the newest), checks it can make RS256
// signatures, and pins the version it read.
func (s *Signer) getKey(version string) error {
	u := s.vault + "/keys/" + s.name
	if version != "" {
		u += "/" + version
	}
	var resp struct {
		Key struct {
			Kid    string   `json:"kid"`
			Kty    string   `json:"kty"`
			KeyOps []string `json:"key_ops"`
			N      string   `json:"n"`
			E      string   `json:"e"`
		} `json:"key"`
		Attributes struct {
			Enabled *bool `json:"enabled"`
		} `json:"attributes"`
	}
	if err := s.call(http.MethodGet, u, nil, &resp, "get"); err != nil {
		return err
	}
	k := resp.Key
	if k.Kty != "RSA" && k.Kty != "RSA-HSM" {
		return fmt.Errorf("azurekms: key %q is of type %q; GitHub App JWTs need kty RSA or RSA-HSM with \"sign\" in its key operations (import the app's PEM: az keyvault key import --pem-file)", s.name, k.Kty)
	}
	if !slices.Contains(k.KeyOps, "sign") {
		return fmt.Errorf("azurekms: key %q does not allow signing (key_ops %v); add it: az keyvault key set-attributes --ops sign verify", s.name, k.KeyOps)
	}
	if resp.Attributes.Enabled != nil && !*resp.Attributes.Enabled {
		return fmt.Errorf("azurekms: key %q is disabled; enable it: az keyvault key set-attributes --enabled true", s.name)
	}
	n, err1 := base64.RawURLEncoding.DecodeString(strings.TrimRight(k.N, "="))
	e, err2 := base64.RawURLEncoding.DecodeString(strings.TrimRight(k.E, "="))
	if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
		return fmt.Errorf("azurekms: Key Vault gave a damaged public key for %q", s.name)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	if bits := pub.N.BitLen(); bits != 2048 && bits != 3072 && bits != 4096 {
		return fmt.Errorf("azurekms: key %q has %d bits; GitHub App JWTs need an RSA key of 2048, 3072 or 4096 bits", s.name, bits)
	}
	// The kid names the version read; sign with that version, on this vault only, so the
	// signature matches Public() and the token goes nowhere else.
	prefix := s.vault + "/keys/" + s.name + "/"
	ver, ok := strings.CutPrefix(k.Kid, prefix)
	if !ok || !validVersion(ver) {
		return fmt.Errorf("azurekms: Key Vault answered a key id for another vault or key (%s)", kmsrest.Clip(k.Kid))
	}
	s.kid, s.pub = prefix+ver, pub
	return nil
}

// call sends one authenticated request to rawURL and decodes the JSON answer into out. op is
// "get" or "sign", for the permission error.
func (s *Signer) call(method, rawURL string, in, out any, op string) error {
	ctx, cancel := context.WithTimeout(s.ctx, kmsrest.CallTimeout)
	defer cancel()
	tok, err := s.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{s.scope}})
	if err != nil {
		return tokenError(err)
	}
	header := http.Header{"Authorization": {"Bearer " + tok.Token}}
	status, data, err := kmsrest.Do(ctx, s.client, method, rawURL+"?api-version="+apiVersion, in, header)
	var ne *kmsrest.NetError
	switch {
	case errors.As(err, &ne) && ne.Reading:
		return fmt.Errorf("azurekms: reading Key Vault's answer: %s", ne.Cause)
	case errors.As(err, &ne):
		return fmt.Errorf("azurekms: cannot reach Key Vault at %s: %s; check the vault name, the network and HTTPS_PROXY", s.vault, ne.Cause)
	case err != nil:
		return fmt.Errorf("azurekms: %v", err)
	}
	if status/100 != 2 {
		return s.apiError(status, data, op)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("azurekms: Key Vault's answer is not the JSON expected: %v", err)
	}
	return nil
}

// apiError turns a KeyVaultError answer into one line naming the fix.
func (s *Signer) apiError(status int, data []byte, op string) error {
	var e struct {
		Error struct {
			Code       string `json:"code"`
			Message    string `json:"message"`
			InnerError *struct {
				Code string `json:"code"`
			} `json:"innererror"`
		} `json:"error"`
	}
	_ = json.Unmarshal(data, &e)
	code, msg := e.Error.Code, kmsrest.OneLine(e.Error.Message)
	if e.Error.InnerError != nil && e.Error.InnerError.Code != "" {
		code += "/" + e.Error.InnerError.Code
	}
	switch {
	case code == "Forbidden/KeyOperationForbidden":
		return fmt.Errorf("azurekms: key %q does not allow signing; add it: az keyvault key set-attributes --ops sign verify", s.name)
	case status == http.StatusForbidden:
		return fmt.Errorf("azurekms: permission denied on key %q (%s): give the identity keys/sign and keys/get on the vault, e.g. the \"Key Vault Crypto User\" role, or an access policy with get and sign", s.name, code)
	case status == http.StatusUnauthorized:
		return fmt.Errorf("azurekms: Key Vault %s rejected the access token (%s): check the tenant of the credentials (AZURE_TENANT_ID) and that the vault is in it", s.vault, code)
	case status == http.StatusNotFound:
		return fmt.Errorf("azurekms: vault %s has no key %q (%s); check the name with `az keyvault key list --vault-name VAULT`", s.vault, s.name, code)
	case msg != "":
		return fmt.Errorf("azurekms: Key Vault refused (HTTP %d %s) for key %q: %s", status, code, s.name, msg)
	default:
		return fmt.Errorf("azurekms: Key Vault answered HTTP %d for key %q", status, s.name)
	}
}

// tokenError describes a failed credential chain in one line. azidentity's messages hold no
// secret (they name the credentials tried and Entra ID's error codes) but span many lines.
func tokenError(err error) error {
	var afe *azidentity.AuthenticationFailedError
	if errors.As(err, &afe) && afe.RawResponse != nil {
		var b struct {
			Code string `json:"error"`
			Desc string `json:"error_description"`
		}
		if body, rerr := io.ReadAll(io.LimitReader(afe.RawResponse.Body, 64<<10)); rerr == nil {
			_ = json.Unmarshal(body, &b)
		}
		if b.Code != "" {
			desc, _, _ := strings.Cut(b.Desc, "Trace ID")
			return fmt.Errorf("azurekms: Microsoft Entra ID refused the credentials (%s: %s); check AZURE_TENANT_ID, AZURE_CLIENT_ID and the secret or certificate", b.Code, kmsrest.Clip(kmsrest.OneLine(desc)))
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return errors.New("azurekms: no Azure access token within " + kmsrest.CallTimeout.String() + "; check the network and the credentials")
	}
	return fmt.Errorf("azurekms: cannot get an Azure access token: %s; set AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET, use workload or managed identity, or `az login`", kmsrest.Clip(kmsrest.OneLine(err.Error())))
}
