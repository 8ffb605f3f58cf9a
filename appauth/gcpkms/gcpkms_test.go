package gcpkms

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"os"
	"strings"
	"testing"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth/internal/kmstest"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/fakekms"
)

// TestMain makes the fakes' CA trusted (Go reads SSL_CERT_DIR once per process) and keeps every
// test off the real metadata server: with GCE_METADATA_HOST set, ADC never probes
// 169.254.169.254 or metadata.google.internal, and that host refuses connections.
func TestMain(m *testing.M) {
	dir := kmstest.SetUpProcess() // HOME: no gcloud ADC file
	os.Setenv("GCE_METADATA_HOST", "127.0.0.1:1")
	os.Setenv("CLOUDSDK_CONFIG", dir)
	os.Exit(m.Run())
}

func setEnv(t testing.TB, env []string) {
	t.Helper()
	for _, k := range []string{"GOOGLE_APPLICATION_CREDENTIALS", endpointEnv, "GOOGLE_CLOUD_QUOTA_PROJECT"} {
		t.Setenv(k, "")
	}
	kmstest.SetEnv(t, env)
}

func start(t testing.TB, key *rsa.PrivateKey) (*fakekms.GCP, string) {
	t.Helper()
	g, uri, env, err := fakekms.StartGCP(t.TempDir(), key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	setEnv(t, env)
	return g, uri
}

// The app's key in Cloud KMS signs a JWT that the fake GitHub accepts; the service-account
// credentials go through the real ADC code to the fake token endpoint.
func TestSignsAppJWT(t *testing.T) {
	gh, app := kmstest.GitHub(t)
	g, uri := start(t, app.Key)
	kmstest.SignsAppJWT(t, gh, app, uri, New, "Cloud KMS")
	if g.Signs() != 1 {
		t.Fatalf("KMS made %d signatures, want 1", g.Signs())
	}
}

func TestWrongAlgorithm(t *testing.T) {
	key := kmstest.MustKey(t)
	for _, alg := range []string{"RSA_SIGN_PSS_2048_SHA256", "RSA_SIGN_RAW_PKCS1_2048", "EC_SIGN_P256_SHA256", "RSA_DECRYPT_OAEP_2048_SHA256", "GOOGLE_SYMMETRIC_ENCRYPTION"} {
		t.Run(alg, func(t *testing.T) {
			g, uri := start(t, key)
			name := strings.TrimPrefix(uri, "gcpkms://")
			k := key
			if strings.HasPrefix(alg, "EC_") || alg == "GOOGLE_SYMMETRIC_ENCRYPTION" {
				k = nil
			}
			g.AddKey(name, &fakekms.GCPKey{Algorithm: alg, Key: k})
			_, err := New(context.Background(), uri)
			want := "gcpkms: key version " + name + " has algorithm " + alg + "; GitHub App JWTs need RSA_SIGN_PKCS1_2048_SHA256"
			if alg == "GOOGLE_SYMMETRIC_ENCRYPTION" {
				want = "gcpkms: key version " + name + " cannot sign now:"
			}
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("err = %v, want prefix %q", err, want)
			}
		})
	}
}

func TestPermissionDenied(t *testing.T) {
	key := kmstest.MustKey(t)
	for _, perm := range []string{"cloudkms.cryptoKeyVersions.viewPublicKey", "cloudkms.cryptoKeyVersions.useToSign"} {
		t.Run(perm, func(t *testing.T) {
			g, uri := start(t, key)
			name := strings.TrimPrefix(uri, "gcpkms://")
			g.AddKey(name, &fakekms.GCPKey{Algorithm: "RSA_SIGN_PKCS1_2048_SHA256", Key: key, Deny: map[string]bool{perm: true}})
			s, err := New(context.Background(), uri)
			if err == nil {
				d := sha256.Sum256(nil)
				_, err = s.Sign(nil, d[:], crypto.SHA256)
			}
			want := "gcpkms: permission denied on " + name + ": grant the credentials' principal roles/cloudkms.signerVerifier on the key"
			if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), perm) || strings.Contains(err.Error(), "ya29.") {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

// A service-account key the token endpoint does not know is refused there, in one line.
func TestBadCredentials(t *testing.T) {
	g, uri := start(t, kmstest.MustKey(t))
	g.SAKey = kmstest.MustKey(t) // the file now holds a key Google does not accept
	_, err := New(context.Background(), uri)
	want := "gcpkms: Google refused an access token (invalid_grant: Invalid JWT Signature.); check the service account key"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err = %v", err)
	}
}

// Without a credentials file, ADC turns to the metadata server, here one that refuses.
func TestNoCredentialsReachable(t *testing.T) {
	setEnv(t, []string{endpointEnv + "=https://127.0.0.1:1/"})
	_, err := New(context.Background(), "gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1")
	if err == nil || !strings.HasPrefix(err.Error(), "gcpkms: cannot get an access token from Google: ") {
		t.Fatalf("err = %v", err)
	}
}

func TestUnreachable(t *testing.T) {
	_, uri := start(t, kmstest.MustKey(t))
	addr := kmstest.ClosedAddr(t)
	t.Setenv(endpointEnv, "https://"+addr+"/")
	_, err := New(context.Background(), uri)
	want := "gcpkms: cannot reach Cloud KMS at https://" + addr + ": "
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "; check the network, HTTPS_PROXY and "+endpointEnv) {
		t.Fatalf("err = %v", err)
	}
}

func TestURIErrors(t *testing.T) {
	cases := map[string]string{
		"gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k":                          "names no key version; append /cryptoKeyVersions/N",
		"gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/one":    "is not a key version's resource name",
		"gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1/../2": "is not a key version's resource name",
		"gcpkms:///projects/p":    "is not a key version's resource name",
		"gcpkms://":               "is not a key version's resource name",
		"awskms:///projects/p":    "does not start with gcpkms://",
		"gcpkms://projects/p?x=1": "is not a key version's resource name",
	}
	for uri, want := range cases {
		_, err := New(context.Background(), uri)
		if err == nil || !strings.HasPrefix(err.Error(), "gcpkms: signer ") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", uri, err, want)
		}
	}
	t.Setenv(endpointEnv, "http://kms.example.com/")
	if _, err := New(context.Background(), "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1"); err == nil || !strings.Contains(err.Error(), "is not an https URL") {
		t.Errorf("plain http endpoint: err = %v", err)
	}
}

func TestSignRejectsOtherHashes(t *testing.T) {
	g, uri := start(t, kmstest.MustKey(t))
	s, err := New(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	kmstest.RejectsOtherHashes(t, s, 31)
	if g.Signs() != 0 {
		t.Error("a refused request reached KMS")
	}
}

func FuzzParseURI(f *testing.F) {
	for _, s := range []string{"gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1", "gcpkms://", "gcpkms://projects//", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		name, err := parseURI(uri)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "gcpkms: ") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("bad error %q", err)
			}
			return
		}
		if strings.ContainsAny(name, "?#%\x00 ") || strings.Contains(name, "..") || strings.Count(name, "/") != 9 {
			t.Fatalf("parseURI(%q) = %q", uri, name)
		}
	})
}
