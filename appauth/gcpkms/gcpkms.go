// Package gcpkms signs a GitHub App's JWT with an RSA key version held in Google Cloud KMS, so
// the key never leaves KMS. It calls the Cloud KMS REST API (v1) with net/http and takes its
// credentials from Application Default Credentials through golang.org/x/oauth2/google:
// GOOGLE_APPLICATION_CREDENTIALS, gcloud's ADC file, or the metadata server (GCE, GKE workload
// identity, Cloud Run). The gRPC client (cloud.google.com/go/kms) is not used: it costs the
// helper several megabytes and milliseconds of start-up for two REST calls.
//
// The signer URI is cosign's form,
// gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/V. The API root is
// https://cloudkms.googleapis.com/, or gcloud's override CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS
// (e.g. a Private Service Connect endpoint).
package gcpkms

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
	"hash/crc32"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth/internal/kmsrest"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
)

const (
	// scope is the OAuth scope for Cloud KMS
	// (https://cloud.google.com/kms/docs/reference/rest: "https://www.googleapis.com/auth/cloudkms").
	scope           = "https://www.googleapis.com/auth/cloudkms"
	defaultEndpoint = "https://cloudkms.googleapis.com"
	// endpointEnv is gcloud's environment form of the api_endpoint_overrides/cloudkms property
	// (`gcloud topic endpoint-override`), e.g. https://cloudkms.googleapis.com/.
	endpointEnv = "CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS"
)

// validResource reports whether name is a CryptoKeyVersion name:
// projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/V. Project IDs may be
// domain-scoped ("example.com:proj"); location, key ring and key IDs are [a-zA-Z0-9_-]{1,63};
// versions are numbers.
func validResource(name string) bool {
	p := strings.Split(name, "/")
	if len(p) != 10 || p[0] != "projects" || p[2] != "locations" || p[4] != "keyRings" || p[6] != "cryptoKeys" || p[8] != "cryptoKeyVersions" {
		return false
	}
	if !kmsrest.CharsetOK(p[1], 100, ".:_-") || strings.Contains(p[1], "..") {
		return false
	}
	for _, seg := range []string{p[3], p[5], p[7]} {
		if !kmsrest.CharsetOK(seg, 63, "_-") {
			return false
		}
	}
	v := p[9]
	return kmsrest.CharsetOK(v, 20, "") && strings.Trim(v, "0123456789") == ""
}

// Signer is a crypto.Signer backed by one Cloud KMS CryptoKeyVersion.
type Signer struct {
	ctx      context.Context
	client   *http.Client
	ts       oauth2.TokenSource
	quota    string // x-goog-user-project, when ADC names a quota project
	endpoint string
	name     string
	pub      *rsa.PublicKey
}

// New returns a signer for uri. It finds Application Default Credentials and reads the key
// version's public key (getPublicKey), so it fails early, with one line naming the fix, when there
// are no credentials, KMS cannot be reached, the caller lacks
// cloudkms.cryptoKeyVersions.viewPublicKey, or the version's algorithm is not
// RSA_SIGN_PKCS1_{2048,3072,4096}_SHA256. ctx bounds New; each later call has a timeout of its own
// (kmsrest.CallTimeout).
func New(ctx context.Context, uri string) (crypto.Signer, error) {
	name, err := parseURI(uri)
	if err != nil {
		return nil, err
	}
	endpoint, err := endpointFromEnv()
	if err != nil {
		return nil, err
	}
	client := kmsrest.NewClient(nil)
	// The token endpoint is called with this client too (oauth2.HTTPClient), so the token fetch
	// has the same per-call bound.
	tctx := context.WithValue(context.WithoutCancel(ctx), oauth2.HTTPClient, client)
	creds, err := google.FindDefaultCredentials(tctx, scope)
	if err != nil {
		return nil, errors.New("gcpkms: no Google credentials: set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, run `gcloud auth application-default login`, or run on GCP with a service account attached")
	}
	s := &Signer{
		ctx:      ctx,
		client:   client,
		ts:       creds.TokenSource,
		quota:    quotaProject(creds.JSON),
		endpoint: endpoint,
		name:     name,
	}
	if err := s.readPublicKey(); err != nil {
		return nil, err
	}
	// New's context bounds New only (keystore's contract): the helper opens the signer under
	// the request's deadline and cancels that context once it is open, before the mint signs.
	// Later calls keep its values but not its end; each has kmsrest.CallTimeout.
	s.ctx = context.WithoutCancel(ctx)
	return s, nil
}

// parseURI returns the CryptoKeyVersion name from gcpkms://NAME.
func parseURI(uri string) (string, error) {
	const scheme = "gcpkms://"
	const form = "write gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/V"
	name, ok := strings.CutPrefix(uri, scheme)
	if !ok {
		return "", fmt.Errorf("gcpkms: signer %q does not start with %s; %s", kmsrest.Clip(uri), scheme, form)
	}
	if !validResource(name) {
		if !strings.Contains(name, "/cryptoKeyVersions/") && strings.Contains(name, "/cryptoKeys/") {
			return "", fmt.Errorf("gcpkms: signer %q names no key version; append /cryptoKeyVersions/N (see `gcloud kms keys versions list`)", kmsrest.Clip(uri))
		}
		return "", fmt.Errorf("gcpkms: signer %q is not a key version's resource name; %s", kmsrest.Clip(uri), form)
	}
	return name, nil
}

// endpointFromEnv returns the API root without a trailing slash.
func endpointFromEnv() (string, error) {
	v := strings.TrimSpace(os.Getenv(endpointEnv))
	if v == "" {
		return defaultEndpoint, nil
	}
	u, err := url.Parse(v)
	if err == nil && u.User != nil {
		return "", fmt.Errorf("gcpkms: %s carries a user name or password; remove it", endpointEnv)
	}
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && kmsrest.IsLoopback(u.Hostname()))) {
		return "", fmt.Errorf("gcpkms: %s=%q is not an https URL such as https://cloudkms.googleapis.com/", endpointEnv, v)
	}
	return strings.TrimSuffix(strings.TrimRight(v, "/"), "/v1"), nil
}

// quotaProject returns quota_project_id from an ADC file (gcloud's user credentials carry it),
// or GOOGLE_CLOUD_QUOTA_PROJECT.
func quotaProject(credsJSON []byte) string {
	if p := os.Getenv("GOOGLE_CLOUD_QUOTA_PROJECT"); p != "" {
		return p
	}
	var f struct {
		QuotaProject string `json:"quota_project_id"`
	}
	_ = json.Unmarshal(credsJSON, &f)
	return f.QuotaProject
}

// Public returns the RSA public key of the key version.
func (s *Signer) Public() crypto.PublicKey { return s.pub }

// crc32c is the CRC32C checksum Cloud KMS uses, as a decimal string (proto3 JSON's int64).
// The table is made on first use (crc32 caches it), not at start-up.
func crc32c(b []byte) string {
	return strconv.FormatUint(uint64(crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))), 10)
}

// Sign asks Cloud KMS for an RSASSA-PKCS1-v1_5 signature over digest, which must be a SHA-256
// digest. asymmetricSign takes the digest (digest.sha256), not the message, for the
// RSA_SIGN_PKCS1_*_SHA256 algorithms. Request and answer carry CRC32C checksums, as Google
// recommends (https://cloud.google.com/kms/docs/data-integrity-guidelines). rand is not used.
func (s *Signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if err := kmsrest.CheckDigest("gcpkms", digest, opts); err != nil {
		return nil, err
	}
	req := map[string]any{
		"digest":       map[string]string{"sha256": base64.StdEncoding.EncodeToString(digest)},
		"digestCrc32c": crc32c(digest),
	}
	var resp struct {
		Signature            []byte `json:"signature"`
		SignatureCrc32c      string `json:"signatureCrc32c"`
		VerifiedDigestCrc32c bool   `json:"verifiedDigestCrc32c"`
		Name                 string `json:"name"`
	}
	if err := s.call(http.MethodPost, s.name+":asymmetricSign", req, &resp); err != nil {
		return nil, err
	}
	if !resp.VerifiedDigestCrc32c || resp.Name != s.name || resp.SignatureCrc32c != crc32c(resp.Signature) {
		return nil, errors.New("gcpkms: the signature was damaged in transit (CRC32C mismatch); try again")
	}
	if !kmsrest.Verifies(s.pub, digest, resp.Signature) {
		return nil, fmt.Errorf("gcpkms: the signature from %s does not verify with its public key", s.name)
	}
	return resp.Signature, nil
}

// readPublicKey fetches the version's public key and checks its algorithm.
func (s *Signer) readPublicKey() error {
	var resp struct {
		PEM       string `json:"pem"`
		Algorithm string `json:"algorithm"`
		PEMCrc32c string `json:"pemCrc32c"`
	}
	if err := s.call(http.MethodGet, s.name+"/publicKey", nil, &resp); err != nil {
		return err
	}
	switch resp.Algorithm {
	case "RSA_SIGN_PKCS1_2048_SHA256", "RSA_SIGN_PKCS1_3072_SHA256", "RSA_SIGN_PKCS1_4096_SHA256":
	default:
		return fmt.Errorf("gcpkms: key version %s has algorithm %s; GitHub App JWTs need RSA_SIGN_PKCS1_2048_SHA256, RSA_SIGN_PKCS1_3072_SHA256 or RSA_SIGN_PKCS1_4096_SHA256 (import the app's key into such a key, see README)", s.name, resp.Algorithm)
	}
	if resp.PEMCrc32c != "" && resp.PEMCrc32c != crc32c([]byte(resp.PEM)) {
		return errors.New("gcpkms: the public key was damaged in transit (CRC32C mismatch); try again")
	}
	block, _ := pem.Decode([]byte(resp.PEM))
	if block == nil {
		return fmt.Errorf("gcpkms: Cloud KMS gave no PEM public key for %s", s.name)
	}
	pk, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return fmt.Errorf("gcpkms: the public key of %s does not parse: %v", s.name, err)
	}
	rpk, ok := pk.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("gcpkms: the public key of %s is not RSA", s.name)
	}
	s.pub = rpk
	return nil
}

// call sends one authenticated request to {endpoint}/v1/{path} and decodes the answer into out.
func (s *Signer) call(method, path string, in, out any) error {
	ctx, cancel := context.WithTimeout(s.ctx, kmsrest.CallTimeout)
	defer cancel()
	tok, err := s.ts.Token()
	if err != nil {
		return tokenError(err)
	}
	header := http.Header{"Authorization": {tok.Type() + " " + tok.AccessToken}}
	if s.quota != "" {
		header.Set("X-Goog-User-Project", s.quota)
	}
	status, data, err := kmsrest.Do(ctx, s.client, method, s.endpoint+"/v1/"+path, in, header)
	var ne *kmsrest.NetError
	switch {
	case errors.As(err, &ne) && ne.Reading:
		return fmt.Errorf("gcpkms: reading Cloud KMS's answer: %s", ne.Cause)
	case errors.As(err, &ne):
		return fmt.Errorf("gcpkms: cannot reach Cloud KMS at %s: %s; check the network, HTTPS_PROXY and %s", s.endpoint, ne.Cause, endpointEnv)
	case err != nil:
		return fmt.Errorf("gcpkms: %v", err)
	}
	if status/100 != 2 {
		return s.apiError(status, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("gcpkms: Cloud KMS's answer is not the JSON expected: %v", err)
	}
	return nil
}

// apiError turns a google.rpc.Status answer into one line naming the fix.
func (s *Signer) apiError(code int, data []byte) error {
	var e struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Status  string `json:"status"`
		} `json:"error"`
	}
	_ = json.Unmarshal(data, &e)
	msg := kmsrest.OneLine(e.Error.Message)
	switch {
	case e.Error.Status == "PERMISSION_DENIED" || code == http.StatusForbidden:
		return fmt.Errorf("gcpkms: permission denied on %s: grant the credentials' principal roles/cloudkms.signerVerifier on the key (cloudkms.cryptoKeyVersions.useToSign and cloudkms.cryptoKeyVersions.viewPublicKey), and check the name (Cloud KMS says: %s)", s.name, msg)
	case e.Error.Status == "UNAUTHENTICATED" || code == http.StatusUnauthorized:
		return errors.New("gcpkms: Cloud KMS rejected the credentials (UNAUTHENTICATED): refresh them (`gcloud auth application-default login`) or check GOOGLE_APPLICATION_CREDENTIALS")
	case e.Error.Status == "NOT_FOUND" || code == http.StatusNotFound:
		return fmt.Errorf("gcpkms: Cloud KMS has no key version %s (check the name with `gcloud kms keys versions list`)", s.name)
	case e.Error.Status == "FAILED_PRECONDITION":
		return fmt.Errorf("gcpkms: key version %s cannot sign now: %s (is it enabled, an asymmetric signing key, and its import finished?)", s.name, msg)
	case msg != "":
		return fmt.Errorf("gcpkms: Cloud KMS refused (HTTP %d %s) for %s: %s", code, e.Error.Status, s.name, msg)
	default:
		return fmt.Errorf("gcpkms: Cloud KMS answered HTTP %d for %s", code, s.name)
	}
}

// tokenError describes a failed token fetch without the token endpoint's secrets.
func tokenError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		code, descr := re.ErrorCode, re.ErrorDescription
		if code == "" { // the service-account flow leaves the OAuth error in Body (RFC 6749 5.2)
			var b struct {
				Code string `json:"error"`
				Desc string `json:"error_description"`
			}
			_ = json.Unmarshal(re.Body, &b)
			code, descr = b.Code, b.Desc
		}
		desc := code
		if descr != "" {
			desc += ": " + descr
		}
		if desc == "" && re.Response != nil {
			desc = "HTTP " + strconv.Itoa(re.Response.StatusCode)
		}
		return fmt.Errorf("gcpkms: Google refused an access token (%s); check the service account key in GOOGLE_APPLICATION_CREDENTIALS or run `gcloud auth application-default login`", kmsrest.OneLine(desc))
	}
	return fmt.Errorf("gcpkms: cannot get an access token from Google: %s; check the network and the credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud ADC, metadata server)", kmsrest.NetCause(err))
}
