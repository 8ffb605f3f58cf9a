package main

import (
	"context"
	"crypto/rsa"
	"maps"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/git-credential-ghapp/git-credential-ghapp/internal/fakekms"
)

// The cloud key stores, end to end: the fake GitHub's app key is imported into the fake Cloud KMS,
// Key Vault or Vault (internal/fakekms), the .pem is deleted, and the installed pair runs setup
// --signer, doctor, git clone and git push through the backend's real credential code. Then the
// failures a person meets (a key of the wrong type, a principal that may not sign, a store that
// is not there) must each come back from the binary as one line naming the backend and the fix.
//
// Nothing here may reach the network: the helper's environment points every credential chain at
// the fakes or at nothing (no metadata server, no gcloud/az/AWS files of the developer's).

// kmsOffline is the environment that keeps every cloud credential chain on loopback.
var kmsOffline = map[string]string{
	"GCE_METADATA_HOST":                        "127.0.0.1:1", // ADC's metadata-server fallback
	"GCE_METADATA_IP":                          "127.0.0.1:1",
	"GOOGLE_APPLICATION_CREDENTIALS":           "",
	"GOOGLE_CLOUD_QUOTA_PROJECT":               "",
	"CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS": "",
	"AWS_EC2_METADATA_DISABLED":                "true",
	"AZURE_TOKEN_CREDENTIALS":                  "EnvironmentCredential", // no managed identity, no az CLI
	"AZURE_FEDERATED_TOKEN_FILE":               "",
	"AZURE_CLIENT_CERTIFICATE_PATH":            "",
	"AZURE_USERNAME":                           "",
	"VAULT_NAMESPACE":                          "",
	"TRANSIT_SECRET_ENGINE_PATH":               "",
}

// kmsE2E is signerE2E for a store in internal/fakekms: start seeds a fake with the app's key and
// returns its URI and the environment the helper needs (with HOME and CLOUDSDK_CONFIG already
// temporary, so no gcloud or Vault file of the developer's is read).
func kmsE2E(t *testing.T, start func(dir string, key *rsa.PrivateKey) (uri string, env []string, err error)) (*e2e, string) {
	t.Helper()
	var uri string
	x := signerE2E(t, func(x *e2e, pemFile string) {
		for k, v := range kmsOffline {
			x.vars[k] = v
		}
		x.vars["CLOUDSDK_CONFIG"] = filepath.Join(x.dir, "gcloud")
		u, env, err := start(x.dir, readAppKey(t, pemFile))
		if err != nil {
			t.Fatal(err)
		}
		uri = u
		for _, kv := range env {
			k, v, _ := strings.Cut(kv, "=")
			x.vars[k] = v
		}
	})
	return x, uri
}

// needCertDir skips where Go ignores SSL_CERT_DIR (macOS, Windows): the Cloud KMS and Key Vault
// fakes' CA reaches the helper only that way (the Vault fake's goes in VAULT_CACERT).
func needCertDir(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skipf("the fakes' CA goes to the helper in SSL_CERT_DIR, which Go reads on Linux only, not on %s", runtime.GOOS)
	}
}

// signerFails runs `token acme/app` with the signer uri and checks that it fails with exactly one
// line on stderr, prefixed by the backend's name and holding each of wants, and nothing on stdout.
func signerFails(t *testing.T, x *e2e, uri string, wants ...string) {
	t.Helper()
	x.vars["GHAPP_MIN_LIFETIME"] = "1h" // the token the story cached is not good enough: mint
	out, stderr, err := x.helperRun(context.Background(), "", "--app-id", x.vars["APP_ID"], "--signer", uri, "token", "acme/app")
	scheme, _, _ := strings.Cut(uri, ":")
	if err == nil || out != "" {
		t.Errorf("token with %s: want a failure and no stdout, got %v\n%s", uri, err, out)
	}
	if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "git-credential-ghapp: "+scheme+": ") {
		t.Errorf("token with %s: want one line starting with %q, got:\n%s", uri, "git-credential-ghapp: "+scheme+": ", stderr)
	}
	for _, want := range wants {
		if !strings.Contains(stderr, want) {
			t.Errorf("token with %s: the error lacks %q:\n%s", uri, want, stderr)
		}
	}
}

func TestGCPKMSSignerEndToEnd(t *testing.T) {
	needCertDir(t)
	var g *fakekms.GCP
	x, uri := kmsE2E(t, func(dir string, key *rsa.PrivateKey) (string, []string, error) {
		f, uri, env, err := fakekms.StartGCP(dir, key)
		if err == nil {
			t.Cleanup(f.Close)
			g = f
			const ring = "projects/fake-project/locations/global/keyRings/ghapp/cryptoKeys/"
			f.AddKey(ring+"ec/cryptoKeyVersions/1", &fakekms.GCPKey{Algorithm: "EC_SIGN_P256_SHA256"})
			f.AddKey(ring+"nosign/cryptoKeyVersions/1", &fakekms.GCPKey{Algorithm: "RSA_SIGN_PKCS1_2048_SHA256", Key: key,
				Deny: map[string]bool{"cloudkms.cryptoKeyVersions.useToSign": true}})
		}
		return uri, env, err
	})
	runSignerStory(t, x, uri)
	if g.Signs() < 1 {
		t.Errorf("the fake Cloud KMS made no signature")
	}
	ring := strings.TrimSuffix(uri, "app/cryptoKeyVersions/1")
	signerFails(t, x, ring+"ec/cryptoKeyVersions/1", "EC_SIGN_P256_SHA256", "RSA_SIGN_PKCS1_2048_SHA256", "see README")
	signerFails(t, x, ring+"nosign/cryptoKeyVersions/1", "permission denied", "roles/cloudkms.signerVerifier")
	x.vars["CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS"] = "http://127.0.0.1:1/"
	signerFails(t, x, uri, "cannot reach Cloud KMS at http://127.0.0.1:1", "check the network")
}

func TestAzureKeyVaultSignerEndToEnd(t *testing.T) {
	needCertDir(t)
	var a *fakekms.Azure
	x, uri := kmsE2E(t, func(_ string, key *rsa.PrivateKey) (string, []string, error) {
		f, uri, env, err := fakekms.StartAzure(key)
		if err == nil {
			t.Cleanup(f.Close)
			a = f
			f.AddKey("ec", &fakekms.AzureKey{Kty: "EC", KeyOps: []string{"sign", "verify"}})
			f.AddKey("nosign", &fakekms.AzureKey{Kty: "RSA", KeyOps: []string{"sign", "verify"}, Key: key, Deny: map[string]bool{"sign": true}})
		}
		return uri, env, err
	})
	runSignerStory(t, x, uri)
	if a.Signs() < 1 {
		t.Errorf("the fake Key Vault made no signature")
	}
	vault := strings.TrimSuffix(uri, "ghapp")
	signerFails(t, x, vault+"ec", `"ec"`, "RSA")
	signerFails(t, x, vault+"nosign", "permission denied", "Key Vault Crypto User")
	// A vault nobody answers at (Entra ID's token endpoint, on the fake, still answers).
	signerFails(t, x, "azurekms://127.0.0.1:1/ghapp", "cannot reach Key Vault at https://127.0.0.1:1", "check the vault name")
}

func TestVaultTransitSignerEndToEnd(t *testing.T) {
	var v *fakekms.Vault
	x, uri := kmsE2E(t, func(_ string, key *rsa.PrivateKey) (string, []string, error) {
		f, uri, env, err := fakekms.StartVault(key)
		if err == nil {
			t.Cleanup(f.Close)
			v = f
			f.AddKey("ec", &fakekms.VaultKey{Type: "ecdsa-p256"})
			f.AddKey("nosign", &fakekms.VaultKey{Type: "rsa-2048", Versions: []*rsa.PrivateKey{key}, Deny: map[string]bool{"sign": true}})
		}
		return uri, env, err
	})
	runSignerStory(t, x, uri)
	if v.Signs() < 1 {
		t.Errorf("the fake Vault made no signature")
	}
	signerFails(t, x, "hashivault://ec", `"ecdsa-p256"`, "rsa-2048")
	signerFails(t, x, "hashivault://nosign", "permission denied", "update on transit/sign/nosign")
	x.vars["VAULT_ADDR"] = "https://127.0.0.1:1"
	signerFails(t, x, uri, "cannot reach Vault at https://127.0.0.1:1", "check VAULT_ADDR")
}

// fakeStore is one of internal/fakekms's stores, seeded with a key, for the benchmarks.
type fakeStore struct {
	name, uri string
	env       []string
}

// vars is the environment a helper needs to sign with the store, kept off the network.
func (f fakeStore) vars(dir string) map[string]string {
	vars := maps.Clone(kmsOffline)
	vars["CLOUDSDK_CONFIG"] = filepath.Join(dir, "gcloud")
	for _, kv := range f.env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	return vars
}

// startFakeStores starts the fake Cloud KMS, Key Vault and Vault holding key (Cloud KMS and Key
// Vault only on Linux: see needCertDir), closed when b ends.
func startFakeStores(b testing.TB, dir string, key *rsa.PrivateKey) []fakeStore {
	var stores []fakeStore
	if runtime.GOOS == "linux" {
		g, uri, env, err := fakekms.StartGCP(dir, key)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(g.Close)
		stores = append(stores, fakeStore{"gcpkms", uri, env})
		a, uri, env, err := fakekms.StartAzure(key)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(a.Close)
		stores = append(stores, fakeStore{"azurekms", uri, env})
	}
	v, uri, env, err := fakekms.StartVault(key)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(v.Close)
	return append(stores, fakeStore{"hashivault", uri, env})
}
