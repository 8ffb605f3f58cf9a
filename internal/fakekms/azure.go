package fakekms

// The fake Azure Key Vault follows Microsoft's Key Vault REST reference (api-version 7.4):
//   - Get Key: GET {vaultBaseUrl}/keys/{key-name}/{key-version}?api-version=7.4 (an empty version
//     is the newest) -> KeyBundle {key: JsonWebKey {kid, kty, key_ops, n, e}, attributes}
//     https://learn.microsoft.com/rest/api/keyvault/keys/get-key/get-key
//   - Sign: POST {vaultBaseUrl}/keys/{key-name}/{key-version}/sign?api-version=7.4
//     {alg: "RS256", value: base64url(digest)} -> KeyOperationResult {kid, value: base64url(signature)}
//     https://learn.microsoft.com/rest/api/keyvault/keys/sign/sign
//   - errors: KeyVaultError {"error": {"code": "Forbidden", "message": ..., "innererror": {...}}}
//     https://learn.microsoft.com/azure/key-vault/general/rest-error-codes
//   - authentication: a bearer token for the resource https://vault.azure.net; a request without
//     one gets 401 and a WWW-Authenticate challenge naming the authority and resource
//     https://learn.microsoft.com/azure/key-vault/general/authentication-requests-and-responses
// and the Microsoft identity platform's client-credentials flow with a shared secret, as MSAL
// calls it: the tenant's OpenID configuration, then POST {tenant}/oauth2/v2.0/token
// grant_type=client_credentials&client_id&client_secret&scope=https://vault.azure.net/.default
// https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// AzureKey is one version of a Key Vault key.
type AzureKey struct {
	Kty    string // "RSA", "RSA-HSM", "EC", "oct-HSM", ...
	KeyOps []string
	Key    *rsa.PrivateKey // nil for non-RSA keys
	// Deny lists the data actions the caller lacks: "get" (keys/read) or "sign" (keys/sign/action).
	Deny map[string]bool
}

// Azure is a running fake Key Vault plus a fake Microsoft Entra ID token endpoint on one host.
type Azure struct {
	URL          string // vault base URL and AZURE_AUTHORITY_HOST
	Host         string // 127.0.0.1:PORT
	TenantID     string
	ClientID     string
	ClientSecret string

	srv      *server
	mu       sync.Mutex
	keys     map[string][]*azureVersion // by name, oldest first
	tokens   map[string]bool
	signs    int
	tokenReq int
}

type azureVersion struct {
	id  string
	key *AzureKey
}

// NewAzure starts a fake Key Vault and token endpoint on 127.0.0.1.
func NewAzure() (*Azure, error) {
	a := &Azure{
		TenantID:     "72f988bf-86f1-41af-91ab-2d7cd011db47",
		ClientID:     "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
		ClientSecret: newToken("secret-"),
		keys:         map[string][]*azureVersion{},
		tokens:       map[string]bool{},
	}
	s, err := listen(http.HandlerFunc(a.serve))
	if err != nil {
		return nil, err
	}
	a.srv, a.URL, a.Host = s, s.URL, s.Host
	return a, nil
}

// Close stops the server.
func (a *Azure) Close() { a.srv.close() }

// AddKey adds a new newest version of key name and returns its version id.
func (a *Azure) AddKey(name string, k *AzureKey) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	id := newToken("")[:32]
	a.keys[name] = append(a.keys[name], &azureVersion{id: id, key: k})
	return id
}

// Signs returns how many signatures the fake has made.
func (a *Azure) Signs() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.signs
}

// TokenRequests returns how many access tokens the token endpoint issued.
func (a *Azure) TokenRequests() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.tokenReq
}

func azureErr(w http.ResponseWriter, status int, code, msg string, inner string) {
	e := map[string]any{"code": code, "message": msg}
	if inner != "" {
		e["innererror"] = map[string]any{"code": inner}
	}
	writeJSON(w, status, map[string]any{"error": e})
}

func (a *Azure) serve(w http.ResponseWriter, r *http.Request) {
	tenantPrefix := "/" + a.TenantID + "/"
	if strings.HasPrefix(r.URL.Path, tenantPrefix) {
		a.identity(w, r, strings.TrimPrefix(r.URL.Path, tenantPrefix))
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/keys/") {
		azureErr(w, http.StatusNotFound, "NotFound", "The requested resource was not found.", "")
		return
	}
	auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	a.mu.Lock()
	valid := ok && a.tokens[auth]
	a.mu.Unlock()
	if !valid {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization="%s/%s", resource="https://vault.azure.net"`, a.URL, a.TenantID))
		azureErr(w, http.StatusUnauthorized, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.", "")
		return
	}
	if v := r.URL.Query().Get("api-version"); v == "" {
		azureErr(w, http.StatusBadRequest, "BadParameter", "The 'api-version' query parameter is required.", "")
		return
	} else if v < "7.0" {
		azureErr(w, http.StatusBadRequest, "BadParameter", "The specified version ("+v+") is not recognized. Consider using the latest supported version (7.4).", "")
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/keys/"), "/")
	switch {
	case r.Method == http.MethodGet && (len(parts) == 1 || len(parts) == 2):
		ver := ""
		if len(parts) == 2 {
			ver = parts[1]
		}
		a.getKey(w, parts[0], ver)
	case r.Method == http.MethodPost && len(parts) == 3 && parts[2] == "sign":
		a.sign(w, r, parts[0], parts[1])
	default:
		azureErr(w, http.StatusMethodNotAllowed, "BadParameter", "Method not allowed.", "")
	}
}

// find returns the version, the newest when ver is "", or writes KeyNotFound.
func (a *Azure) find(w http.ResponseWriter, name, ver string) (*azureVersion, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	vs := a.keys[name]
	for i := len(vs) - 1; i >= 0; i-- {
		if ver == "" || vs[i].id == ver {
			return vs[i], true
		}
	}
	msg := fmt.Sprintf("A key with (name/id) %s was not found in this key vault. If you recently deleted this key you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182", name)
	if ver != "" {
		msg = fmt.Sprintf("A key with (name/id) %s/%s was not found in this key vault. If you recently deleted this key you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182", name, ver)
	}
	azureErr(w, http.StatusNotFound, "KeyNotFound", msg, "")
	return nil, false
}

func forbidden(w http.ResponseWriter, action string) {
	// The RBAC denial Key Vault reports; the message names the data action.
	azureErr(w, http.StatusForbidden, "Forbidden", fmt.Sprintf("Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: appid=04b07795-8ddb-461a-bbee-02f9e1bf7b46\r\nAction: 'Microsoft.KeyVault/vaults/keys/%s'\r\nResource: '/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg/providers/microsoft.keyvault/vaults/fake'", action), "ForbiddenByRbac")
}

func (a *Azure) getKey(w http.ResponseWriter, name, ver string) {
	v, ok := a.find(w, name, ver)
	if !ok {
		return
	}
	if v.key.Deny["get"] {
		forbidden(w, "read")
		return
	}
	jwk := map[string]any{
		"kid":     fmt.Sprintf("%s/keys/%s/%s", a.URL, name, v.id),
		"kty":     v.key.Kty,
		"key_ops": v.key.KeyOps,
	}
	if v.key.Key != nil {
		jwk["n"] = base64.RawURLEncoding.EncodeToString(v.key.Key.N.Bytes())
		jwk["e"] = base64.RawURLEncoding.EncodeToString(big.NewInt(int64(v.key.Key.E)).Bytes())
	} else {
		jwk["crv"], jwk["x"], jwk["y"] = "P-256", "AAAA", "AAAA"
	}
	now := time.Now().Unix()
	writeJSON(w, http.StatusOK, map[string]any{"key": jwk, "attributes": map[string]any{
		"enabled": true, "created": now, "updated": now, "recoveryLevel": "Recoverable+Purgeable", "exportable": false,
	}})
}

func (a *Azure) sign(w http.ResponseWriter, r *http.Request, name, ver string) {
	var body struct {
		Alg   string `json:"alg"`
		Value string `json:"value"`
	}
	if err := readJSON(r, &body); err != nil {
		azureErr(w, http.StatusBadRequest, "BadParameter", "Request body is not valid JSON.", "")
		return
	}
	v, ok := a.find(w, name, ver)
	if !ok {
		return
	}
	if v.key.Deny["sign"] {
		forbidden(w, "sign/action")
		return
	}
	if (v.key.Kty != "RSA" && v.key.Kty != "RSA-HSM") || v.key.Key == nil {
		azureErr(w, http.StatusBadRequest, "BadParameter", "Key and signing algorithm are incompatible.", "")
		return
	}
	if !contains(v.key.KeyOps, "sign") {
		azureErr(w, http.StatusForbidden, "Forbidden", "Operation sign is not permitted on this key.", "KeyOperationForbidden")
		return
	}
	if body.Alg != "RS256" {
		// PS256 etc. are real algorithms but not what this fake models; anything else is unknown.
		azureErr(w, http.StatusBadRequest, "BadParameter", "Invalid algorithm: "+body.Alg, "")
		return
	}
	// value is base64url without padding (JSON Web Signature's encoding); RS256 needs a SHA-256
	// digest, 32 bytes.
	digest, err := base64.RawURLEncoding.DecodeString(body.Value)
	if err != nil {
		azureErr(w, http.StatusBadRequest, "BadParameter", "Property 'value' is not base64url.", "")
		return
	}
	if len(digest) != 32 {
		azureErr(w, http.StatusBadRequest, "BadParameter", "Invalid length of digest.", "")
		return
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, v.key.Key, crypto.SHA256, digest)
	if err != nil {
		azureErr(w, http.StatusInternalServerError, "InternalServerError", err.Error(), "")
		return
	}
	a.mu.Lock()
	a.signs++
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"kid":   fmt.Sprintf("%s/keys/%s/%s", a.URL, name, v.id),
		"value": base64.RawURLEncoding.EncodeToString(sig),
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// identity serves the tenant's OpenID configuration and token endpoint.
func (a *Azure) identity(w http.ResponseWriter, r *http.Request, path string) {
	base := a.URL + "/" + a.TenantID
	switch path {
	case "v2.0/.well-known/openid-configuration":
		writeJSON(w, http.StatusOK, map[string]any{
			"token_endpoint":                        base + "/oauth2/v2.0/token",
			"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
			"issuer":                                base + "/v2.0",
			"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		})
	case "oauth2/v2.0/token":
		a.token(w, r)
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "invalid_request", "error_description": "AADSTS90002: endpoint not found"})
	}
}

func (a *Azure) token(w http.ResponseWriter, r *http.Request) {
	oauthErr := func(status int, code, desc string) {
		writeJSON(w, status, map[string]any{"error": code, "error_description": desc, "error_codes": []int{}})
	}
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		oauthErr(http.StatusBadRequest, "invalid_request", "AADSTS900561: The endpoint only accepts POST requests.")
		return
	}
	f := r.PostForm
	if f.Get("grant_type") != "client_credentials" {
		oauthErr(http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.")
		return
	}
	if f.Get("client_id") != a.ClientID {
		oauthErr(http.StatusBadRequest, "unauthorized_client", "AADSTS700016: Application with identifier '"+url.QueryEscape(f.Get("client_id"))+"' was not found in the directory.")
		return
	}
	if f.Get("client_secret") != a.ClientSecret {
		oauthErr(http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.")
		return
	}
	// MSAL adds the OpenID Connect scopes (openid, offline_access, profile), which the v2.0
	// endpoint accepts next to one resource's /.default.
	var resource []string
	for _, sc := range strings.Fields(f.Get("scope")) {
		if sc != "openid" && sc != "offline_access" && sc != "profile" {
			resource = append(resource, sc)
		}
	}
	if len(resource) != 1 || resource[0] != "https://vault.azure.net/.default" {
		oauthErr(http.StatusBadRequest, "invalid_scope", "AADSTS1002012: The provided value for scope "+f.Get("scope")+" is not valid.")
		return
	}
	tok := newToken("eyJ0eXAi.fake.")
	a.mu.Lock()
	a.tokens[tok] = true
	a.tokenReq++
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": tok})
}

// StartAzure starts a fake Key Vault holding key as RSA key "ghapp" (key_ops sign, verify) and
// returns it with the signer URI and the environment a helper process needs: the client-secret
// credentials DefaultAzureCredential reads (AZURE_TENANT_ID, AZURE_CLIENT_ID,
// AZURE_CLIENT_SECRET), AZURE_AUTHORITY_HOST pointing at the fake's token endpoint,
// AZURE_TOKEN_CREDENTIALS=EnvironmentCredential (so no test probes a managed-identity endpoint)
// and SSL_CERT_DIR (the fakes' CA). The caller closes it.
func StartAzure(key *rsa.PrivateKey) (a *Azure, uri string, env []string, err error) {
	a, err = NewAzure()
	if err != nil {
		return nil, "", nil, err
	}
	a.AddKey("ghapp", &AzureKey{Kty: "RSA", KeyOps: []string{"sign", "verify"}, Key: key})
	ca, _ := CADir()
	return a, "azurekms://" + a.Host + "/ghapp", []string{
		"AZURE_TENANT_ID=" + a.TenantID,
		"AZURE_CLIENT_ID=" + a.ClientID,
		"AZURE_CLIENT_SECRET=" + a.ClientSecret,
		"AZURE_AUTHORITY_HOST=" + a.URL + "/",
		"AZURE_TOKEN_CREDENTIALS=EnvironmentCredential",
		"SSL_CERT_DIR=" + ca,
	}, nil
}
