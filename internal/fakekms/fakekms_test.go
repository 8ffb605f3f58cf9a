package fakekms

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

func key(t *testing.T) *rsa.PrivateKey {
	keyOnce.Do(func() {
		var err error
		testKey, err = rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
	})
	return testKey
}

func client(t *testing.T) *http.Client {
	pool, err := CAPool()
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

// do sends a JSON request and returns the status and the decoded answer.
func do(t *testing.T, method, u string, hdr map[string]string, body any) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, r)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// Vault transit without prehashed hashes the input again, so a client that sends the digest
// without prehashed=true gets a signature that does not verify over the digest.
func TestVaultPrehashedMatters(t *testing.T) {
	v, _, _, err := StartVault(key(t))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	d := sha256.Sum256([]byte("jwt"))
	h := map[string]string{"X-Vault-Token": v.Token}
	for _, pre := range []bool{true, false} {
		st, out := do(t, "POST", v.URL+"/v1/transit/sign/ghapp", h, map[string]any{
			"input": base64.StdEncoding.EncodeToString(d[:]), "prehashed": pre, "signature_algorithm": "pkcs1v15",
		})
		if st != 200 {
			t.Fatalf("status %d %v", st, out)
		}
		sig, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(out["data"].(map[string]any)["signature"].(string), "vault:v1:"))
		ok := rsa.VerifyPKCS1v15(&key(t).PublicKey, crypto.SHA256, d[:], sig) == nil
		if ok != pre {
			t.Errorf("prehashed=%v: signature over the digest verifies = %v", pre, ok)
		}
	}
	if st, out := do(t, "GET", v.URL+"/v1/transit/keys/ghapp", nil, nil); st != 403 || out["errors"].([]any)[0] != "permission denied" {
		t.Errorf("no token: %d %v", st, out)
	}
}

// Cloud KMS wants the digest for an RSA_SIGN_PKCS1_*_SHA256 version, and a bearer token.
func TestGCPDigestAndAuth(t *testing.T) {
	g, _, _, err := StartGCP(t.TempDir(), key(t))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	name := "projects/fake-project/locations/global/keyRings/ghapp/cryptoKeys/app/cryptoKeyVersions/1"
	st, out := do(t, "POST", g.URL+"/v1/"+name+":asymmetricSign", nil, map[string]any{"digest": map[string]string{"sha256": "AA=="}})
	if st != 401 || out["error"].(map[string]any)["status"] != "UNAUTHENTICATED" {
		t.Fatalf("no token: %d %v", st, out)
	}
	g.tokens["tok"] = true
	h := map[string]string{"Authorization": "Bearer tok"}
	st, out = do(t, "POST", g.URL+"/v1/"+name+":asymmetricSign", h, map[string]any{"data": base64.StdEncoding.EncodeToString([]byte("message"))})
	if st != 400 || out["error"].(map[string]any)["status"] != "INVALID_ARGUMENT" {
		t.Fatalf("message instead of digest: %d %v", st, out)
	}
	st, _ = do(t, "POST", g.URL+"/v1/"+name+":asymmetricSign", h, map[string]any{"digest": map[string]string{"sha256": base64.StdEncoding.EncodeToString(make([]byte, 20))}})
	if st != 400 {
		t.Fatalf("20-byte digest: %d", st)
	}
	// The token endpoint refuses an assertion signed by another key.
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {"a.b.c"}}
	resp, err := client(t).PostForm(g.TokenURL, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("bad assertion: %d", resp.StatusCode)
	}
}

// Key Vault wants RS256 over a 32-byte base64url digest, and a bearer token.
func TestAzureDigestAndAuth(t *testing.T) {
	a, _, _, err := StartAzure(key(t))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	st, out := do(t, "GET", a.URL+"/keys/ghapp?api-version=7.4", nil, nil)
	if st != 401 || out["error"].(map[string]any)["code"] != "Unauthorized" {
		t.Fatalf("no token: %d %v", st, out)
	}
	a.tokens["tok"] = true
	h := map[string]string{"Authorization": "Bearer tok"}
	st, out = do(t, "GET", a.URL+"/keys/ghapp?api-version=7.4", h, nil)
	if st != 200 {
		t.Fatalf("get key: %d %v", st, out)
	}
	kid := out["key"].(map[string]any)["kid"].(string)
	d := sha256.Sum256([]byte("jwt"))
	for _, c := range []struct {
		body map[string]string
		want int
	}{
		{map[string]string{"alg": "RS256", "value": base64.RawURLEncoding.EncodeToString(d[:])}, 200},
		{map[string]string{"alg": "RS256", "value": base64.RawURLEncoding.EncodeToString([]byte("the whole message"))}, 400},
		{map[string]string{"alg": "RSNULL", "value": base64.RawURLEncoding.EncodeToString(d[:])}, 400},
	} {
		if st, out := do(t, "POST", kid+"/sign?api-version=7.4", h, c.body); st != c.want {
			t.Errorf("%v: %d %v", c.body, st, out)
		}
	}
	if st, _ := do(t, "POST", kid+"/sign", h, map[string]string{"alg": "RS256", "value": "AA"}); st != 400 {
		t.Errorf("no api-version: %d", st)
	}
}
