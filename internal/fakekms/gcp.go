package fakekms

// The fake Cloud KMS follows Google's REST reference for Cloud KMS v1:
//   - projects.locations.keyRings.cryptoKeys.cryptoKeyVersions.getPublicKey
//     https://cloud.google.com/kms/docs/reference/rest/v1/projects.locations.keyRings.cryptoKeys.cryptoKeyVersions/getPublicKey
//     GET https://cloudkms.googleapis.com/v1/{name}/publicKey -> PublicKey {pem, algorithm, pemCrc32c, name, protectionLevel}
//   - ...cryptoKeyVersions.asymmetricSign
//     https://cloud.google.com/kms/docs/reference/rest/v1/projects.locations.keyRings.cryptoKeys.cryptoKeyVersions/asymmetricSign
//     POST https://cloudkms.googleapis.com/v1/{name}:asymmetricSign {digest: {sha256: base64}, digestCrc32c}
//     -> {signature, signatureCrc32c, verifiedDigestCrc32c, name, protectionLevel}
//   - errors as google.rpc.Status in JSON, https://cloud.google.com/apis/design/errors#http_mapping:
//     {"error": {"code": 403, "message": "...", "status": "PERMISSION_DENIED"}}
//   - the OAuth 2.0 token endpoint for service accounts,
//     https://developers.google.com/identity/protocols/oauth2/service-account#authorizingrequests:
//     POST token_uri grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=JWT (RS256;
//     iss = client_email, scope, aud = token_uri, iat, exp at most one hour later).
// int64 fields (the CRC32C checksums) are JSON strings, as proto3's JSON mapping writes them.

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"hash/crc32"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// GCPKey is one CryptoKeyVersion.
type GCPKey struct {
	// Algorithm is the version's CryptoKeyVersionAlgorithm, e.g. RSA_SIGN_PKCS1_2048_SHA256,
	// RSA_SIGN_PSS_2048_SHA256, EC_SIGN_P256_SHA256 or GOOGLE_SYMMETRIC_ENCRYPTION.
	Algorithm string
	Key       *rsa.PrivateKey // nil for non-RSA algorithms
	// Deny lists the IAM permissions the caller lacks on this version:
	// "cloudkms.cryptoKeyVersions.useToSign", "cloudkms.cryptoKeyVersions.viewPublicKey".
	Deny map[string]bool
}

// GCP is a running fake Cloud KMS with its own OAuth token endpoint.
type GCP struct {
	URL      string // the API root, for CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS (URL + "/")
	TokenURL string // the service account's token_uri
	// ClientEmail and SAKey are the service account the token endpoint accepts.
	ClientEmail string
	SAKey       *rsa.PrivateKey

	srv    *server
	mu     sync.Mutex
	keys   map[string]*GCPKey // by resource name
	tokens map[string]bool
	signs  int
}

// NewGCP starts a fake Cloud KMS on 127.0.0.1 with a fresh service account.
func NewGCP() (*GCP, error) {
	sa, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	g := &GCP{ClientEmail: "ghapp-signer@fake-project.iam.gserviceaccount.com", SAKey: sa, keys: map[string]*GCPKey{}, tokens: map[string]bool{}}
	s, err := listen(http.HandlerFunc(g.serve))
	if err != nil {
		return nil, err
	}
	g.srv, g.URL, g.TokenURL = s, s.URL, s.URL+"/token"
	return g, nil
}

// Close stops the server.
func (g *GCP) Close() { g.srv.close() }

// AddKey stores a key version under its resource name (projects/.../cryptoKeyVersions/N).
func (g *GCP) AddKey(name string, k *GCPKey) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.keys[name] = k
}

// Signs returns how many signatures the fake has made.
func (g *GCP) Signs() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.signs
}

// WriteCredentials writes a service-account key file (the JSON `gcloud iam service-accounts
// keys create` writes) whose token_uri is the fake's, and returns its path.
func (g *GCP) WriteCredentials(dir string) (string, error) {
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: mustPKCS8(g.SAKey)})
	b, _ := json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     "fake-project",
		"private_key_id": "0123456789abcdef",
		"private_key":    string(keyPEM),
		"client_email":   g.ClientEmail,
		"client_id":      "100000000000000000001",
		"auth_uri":       "https://accounts.google.com/o/oauth2/auth",
		"token_uri":      g.TokenURL,
	})
	p := filepath.Join(dir, "gcp-service-account.json")
	return p, os.WriteFile(p, b, 0o600)
}

func mustPKCS8(k *rsa.PrivateKey) []byte {
	b, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err)
	}
	return b
}

// gcpErr writes a google.rpc.Status error.
func gcpErr(w http.ResponseWriter, code int, status, msg string) {
	writeJSON(w, code, map[string]any{"error": map[string]any{"code": code, "message": msg, "status": status}})
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc(b []byte) string { return strconv.FormatUint(uint64(crc32.Checksum(b, castagnoli)), 10) }

func (g *GCP) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/token" {
		g.token(w, r)
		return
	}
	auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	g.mu.Lock()
	valid := ok && g.tokens[auth]
	g.mu.Unlock()
	if !valid {
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/"`)
		gcpErr(w, http.StatusUnauthorized, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.")
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	if !ok {
		gcpErr(w, http.StatusNotFound, "NOT_FOUND", "The requested URL was not found on this server.")
		return
	}
	switch {
	case r.Method == http.MethodGet && strings.HasSuffix(path, "/publicKey"):
		g.publicKey(w, strings.TrimSuffix(path, "/publicKey"))
	case r.Method == http.MethodPost && strings.HasSuffix(path, ":asymmetricSign"):
		g.sign(w, r, strings.TrimSuffix(path, ":asymmetricSign"))
	default:
		gcpErr(w, http.StatusNotFound, "NOT_FOUND", "The requested URL was not found on this server.")
	}
}

// lookup finds a version or writes the error Cloud KMS gives: a missing version and a missing
// permission look the same to a caller without the permission.
func (g *GCP) lookup(w http.ResponseWriter, name, perm string) *GCPKey {
	g.mu.Lock()
	k := g.keys[name]
	g.mu.Unlock()
	if k == nil || k.Deny[perm] {
		gcpErr(w, http.StatusForbidden, "PERMISSION_DENIED", fmt.Sprintf("Permission '%s' denied on resource '%s' (or it may not exist).", perm, name))
		return nil
	}
	return k
}

func (g *GCP) publicKey(w http.ResponseWriter, name string) {
	k := g.lookup(w, name, "cloudkms.cryptoKeyVersions.viewPublicKey")
	if k == nil {
		return
	}
	if k.Algorithm == "GOOGLE_SYMMETRIC_ENCRYPTION" {
		gcpErr(w, http.StatusBadRequest, "FAILED_PRECONDITION", fmt.Sprintf("The request cannot be fulfilled. Resource %s has purpose ENCRYPT_DECRYPT.", name))
		return
	}
	var p string
	if k.Key != nil {
		der, _ := x509.MarshalPKIXPublicKey(&k.Key.PublicKey)
		p = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	} else {
		p = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n" // not an RSA key
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"pem": p, "algorithm": k.Algorithm, "pemCrc32c": crc([]byte(p)), "name": name, "protectionLevel": "SOFTWARE",
	})
}

func (g *GCP) sign(w http.ResponseWriter, r *http.Request, name string) {
	k := g.lookup(w, name, "cloudkms.cryptoKeyVersions.useToSign")
	if k == nil {
		return
	}
	var body struct {
		Digest *struct {
			SHA256 []byte `json:"sha256"` // base64 (standard) in JSON, as proto3 bytes
			SHA384 []byte `json:"sha384"`
			SHA512 []byte `json:"sha512"`
		} `json:"digest"`
		DigestCrc32c *string `json:"digestCrc32c"`
		Data         []byte  `json:"data"`
	}
	if err := readJSON(r, &body); err != nil {
		gcpErr(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid JSON payload received. "+err.Error())
		return
	}
	if !strings.HasPrefix(k.Algorithm, "RSA_SIGN_PKCS1_") || k.Key == nil {
		gcpErr(w, http.StatusBadRequest, "FAILED_PRECONDITION", fmt.Sprintf("The request cannot be fulfilled. Resource %s has algorithm %s, which is not supported by this method.", name, k.Algorithm))
		return
	}
	// SHA-256 algorithms take digest.sha256 (32 bytes); "data" is only for RAW_PKCS1 and
	// EC/ML-DSA algorithms. A message sent as data is refused here.
	if body.Digest == nil || body.Data != nil {
		gcpErr(w, http.StatusBadRequest, "INVALID_ARGUMENT", "The request cannot be fulfilled. digest must be specified for algorithm "+k.Algorithm+".")
		return
	}
	if body.Digest.SHA256 == nil {
		gcpErr(w, http.StatusBadRequest, "INVALID_ARGUMENT", "The request cannot be fulfilled. Digest type must match the digest type of the key algorithm "+k.Algorithm+".")
		return
	}
	if len(body.Digest.SHA256) != 32 {
		gcpErr(w, http.StatusBadRequest, "INVALID_ARGUMENT", fmt.Sprintf("The request cannot be fulfilled. Length of digest must be 32 bytes, got %d.", len(body.Digest.SHA256)))
		return
	}
	if body.DigestCrc32c != nil && *body.DigestCrc32c != crc(body.Digest.SHA256) {
		gcpErr(w, http.StatusBadRequest, "INVALID_ARGUMENT", "The checksum in field digest_crc32c did not match the data in field digest.")
		return
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, k.Key, crypto.SHA256, body.Digest.SHA256)
	if err != nil {
		gcpErr(w, http.StatusInternalServerError, "INTERNAL", err.Error())
		return
	}
	g.mu.Lock()
	g.signs++
	g.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"signature":            base64.StdEncoding.EncodeToString(sig),
		"signatureCrc32c":      crc(sig),
		"verifiedDigestCrc32c": body.DigestCrc32c != nil,
		"name":                 name,
		"protectionLevel":      "SOFTWARE",
	})
}

// token is the service-account OAuth endpoint: it verifies the RS256 assertion against the
// service account's public key and its claims, and issues a one-hour access token.
func (g *GCP) token(w http.ResponseWriter, r *http.Request) {
	oauthErr := func(code, desc string) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": code, "error_description": desc})
	}
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		oauthErr("invalid_request", "Bad Request")
		return
	}
	if r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		oauthErr("unsupported_grant_type", "Invalid grant_type: "+r.PostForm.Get("grant_type"))
		return
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(r.PostForm.Get("assertion"), claims, func(*jwt.Token) (any, error) { return &g.SAKey.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithAudience(g.TokenURL), jwt.WithIssuer(g.ClientEmail), jwt.WithIssuedAt(), jwt.WithExpirationRequired())
	if err != nil {
		oauthErr("invalid_grant", "Invalid JWT Signature.")
		return
	}
	scope, _ := claims["scope"].(string)
	if !strings.Contains(" "+scope+" ", " https://www.googleapis.com/auth/cloudkms ") &&
		!strings.Contains(" "+scope+" ", " https://www.googleapis.com/auth/cloud-platform ") {
		oauthErr("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
		return
	}
	tok := newToken("ya29.fake-")
	g.mu.Lock()
	g.tokens[tok] = true
	g.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "expires_in": int(time.Hour / time.Second), "token_type": "Bearer"})
}

// StartGCP starts a fake Cloud KMS holding key as an RSA_SIGN_PKCS1_<bits>_SHA256 key version
// and returns it with the signer URI and the environment a helper process needs:
// GOOGLE_APPLICATION_CREDENTIALS (a service-account file in dir whose token_uri is the fake's),
// CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS and SSL_CERT_DIR (the fakes' CA). The caller closes it.
func StartGCP(dir string, key *rsa.PrivateKey) (g *GCP, uri string, env []string, err error) {
	g, err = NewGCP()
	if err != nil {
		return nil, "", nil, err
	}
	name := "projects/fake-project/locations/global/keyRings/ghapp/cryptoKeys/app/cryptoKeyVersions/1"
	g.AddKey(name, &GCPKey{Algorithm: fmt.Sprintf("RSA_SIGN_PKCS1_%d_SHA256", key.N.BitLen()), Key: key})
	creds, err := g.WriteCredentials(dir)
	if err != nil {
		g.Close()
		return nil, "", nil, err
	}
	ca, _ := CADir()
	return g, "gcpkms://" + name, []string{
		"GOOGLE_APPLICATION_CREDENTIALS=" + creds,
		"CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS=" + g.URL + "/",
		"SSL_CERT_DIR=" + ca,
	}, nil
}
