package azurekms

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"os"
	"strings"
	"testing"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth/internal/kmstest"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/fakekms"
)

// TestMain makes the fakes' CA trusted (Go reads SSL_CERT_DIR once per process) and confines
// DefaultAzureCredential to the environment credential, so no test probes a managed-identity
// endpoint or runs az.
func TestMain(m *testing.M) {
	kmstest.SetUpProcess()
	os.Setenv("AZURE_TOKEN_CREDENTIALS", "EnvironmentCredential")
	os.Exit(m.Run())
}

func start(t testing.TB, key *rsa.PrivateKey) (*fakekms.Azure, string) {
	t.Helper()
	a, uri, env, err := fakekms.StartAzure(key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	kmstest.SetEnv(t, env)
	return a, uri
}

// The app's key in Key Vault signs a JWT that the fake GitHub accepts; the token comes through
// azidentity's real client-secret flow against the fake Entra ID endpoint.
func TestSignsAppJWT(t *testing.T) {
	gh, app := kmstest.GitHub(t)
	a, uri := start(t, app.Key)
	kmstest.SignsAppJWT(t, gh, app, uri, New, "Key Vault")
	if a.Signs() != 1 || a.TokenRequests() != 1 {
		t.Fatalf("signs = %d, tokens = %d; want 1, 1", a.Signs(), a.TokenRequests())
	}
}

// Without a version the newest is used and pinned; with one, that version signs.
func TestVersions(t *testing.T) {
	oldKey, newKey := kmstest.MustKey(t), kmstest.MustKey(t)
	a, uri := start(t, oldKey)
	oldVer := strings.TrimSpace(a.AddKey("other", &fakekms.AzureKey{Kty: "RSA-HSM", KeyOps: []string{"sign"}, Key: oldKey}))
	a.AddKey("other", &fakekms.AzureKey{Kty: "RSA-HSM", KeyOps: []string{"sign"}, Key: newKey})
	_ = uri
	for _, c := range []struct {
		uri  string
		want *rsa.PrivateKey
	}{
		{"azurekms://" + a.Host + "/other", newKey},
		{"azurekms://" + a.Host + "/other/" + oldVer, oldKey},
	} {
		s, err := New(context.Background(), c.uri)
		if err != nil {
			t.Fatal(err)
		}
		d := sha256.Sum256([]byte(c.uri))
		sig, err := s.Sign(rand.Reader, d[:], crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if rsa.VerifyPKCS1v15(&c.want.PublicKey, crypto.SHA256, d[:], sig) != nil {
			t.Errorf("%s: signed with the wrong version", c.uri)
		}
	}
}

func TestWrongKey(t *testing.T) {
	key := kmstest.MustKey(t)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		k    fakekms.AzureKey
		want string
	}{
		{fakekms.AzureKey{Kty: "EC", KeyOps: []string{"sign"}}, `azurekms: key "bad" is of type "EC"; GitHub App JWTs need kty RSA or RSA-HSM with "sign" in its key operations`},
		{fakekms.AzureKey{Kty: "oct-HSM", KeyOps: []string{"encrypt"}}, `azurekms: key "bad" is of type "oct-HSM"`},
		{fakekms.AzureKey{Kty: "RSA", KeyOps: []string{"encrypt", "decrypt"}, Key: key}, `azurekms: key "bad" does not allow signing (key_ops [encrypt decrypt]); add it: az keyvault key set-attributes --ops sign verify`},
		{fakekms.AzureKey{Kty: "RSA", KeyOps: []string{"sign"}, Key: small}, `azurekms: key "bad" has 1024 bits; GitHub App JWTs need an RSA key of 2048, 3072 or 4096 bits`},
	}
	for _, c := range cases {
		a, _ := start(t, key)
		a.AddKey("bad", &c.k)
		_, err := New(context.Background(), "azurekms://"+a.Host+"/bad")
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want prefix %q", c.k.Kty, err, c.want)
		}
	}
}

func TestPermissionDenied(t *testing.T) {
	key := kmstest.MustKey(t)
	for _, deny := range []string{"get", "sign"} {
		t.Run(deny, func(t *testing.T) {
			a, uri := start(t, key)
			a.AddKey("ghapp", &fakekms.AzureKey{Kty: "RSA", KeyOps: []string{"sign", "verify"}, Key: key, Deny: map[string]bool{deny: true}})
			s, err := New(context.Background(), uri)
			if err == nil {
				d := sha256.Sum256(nil)
				_, err = s.Sign(nil, d[:], crypto.SHA256)
			}
			want := `azurekms: permission denied on key "ghapp" (Forbidden/ForbiddenByRbac): give the identity keys/sign and keys/get on the vault, e.g. the "Key Vault Crypto User" role`
			if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "eyJ0eXAi") {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

// A wrong client secret is refused by Entra ID; the error says so in one line without the secret.
func TestBadSecret(t *testing.T) {
	_, uri := start(t, kmstest.MustKey(t))
	t.Setenv("AZURE_CLIENT_SECRET", "wrong-secret-value")
	_, err := New(context.Background(), uri)
	want := "azurekms: Microsoft Entra ID refused the credentials (invalid_client: AADSTS7000215: Invalid client secret provided."
	if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "wrong-secret-value") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v", err)
	}
}

func TestNoCredentials(t *testing.T) {
	for _, k := range []string{"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"} {
		t.Setenv(k, "")
	}
	_, err := New(context.Background(), "azurekms://127.0.0.1:1/k")
	if err == nil || !strings.HasPrefix(err.Error(), "azurekms: ") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v", err)
	}
	t.Log(err)
	if !strings.Contains(err.Error(), "AZURE_CLIENT_ID") {
		t.Fatalf("err does not name the fix: %v", err)
	}
}

func TestUnreachable(t *testing.T) {
	start(t, kmstest.MustKey(t))
	addr := kmstest.ClosedAddr(t)
	_, err := New(context.Background(), "azurekms://"+addr+"/ghapp")
	want := "azurekms: cannot reach Key Vault at https://" + addr + ": "
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "; check the vault name, the network and HTTPS_PROXY") {
		t.Fatalf("err = %v", err)
	}
}

func TestURIErrors(t *testing.T) {
	cases := map[string]string{
		"azurekms://myvault.vault.azure.net":        "is not a vault host and a key name",
		"azurekms://myvault.vault.azure.net/":       "a Key Vault key name is 1-127 letters",
		"azurekms://myvault.vault.azure.net/a/b/c":  "is not a vault host and a key name",
		"azurekms://myvault.vault.azure.net/k_1":    "a Key Vault key name is 1-127 letters",
		"azurekms://myvault.vault.azure.net/k/../x": "is not a vault host and a key name",
		"azurekms://myvault.vault.azure.net/k/v?x":  "the key version must be letters and digits",
		"azurekms://evil.example.com/k":             `"evil.example.com" is not a Key Vault host`,
		"azurekms://a.b.vault.azure.net/k":          `is not a Key Vault host`,
		"azurekms://vault.azure.net.evil.com/k":     `is not a Key Vault host`,
		"azurekms://10.0.0.1:443/k":                 `is not a Key Vault host`,
		"awskms:///k":                               "does not start with azurekms://",
	}
	for uri, want := range cases {
		_, err := New(context.Background(), uri)
		if err == nil || !strings.HasPrefix(err.Error(), "azurekms: signer ") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", uri, err, want)
		}
	}
	for _, ok := range []string{"azurekms://MyVault.vault.azure.net/k", "azurekms://v.vault.azure.cn/k/0123abcd", "azurekms://h.managedhsm.azure.net/k"} {
		if _, _, _, _, err := parseURI(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

func TestSignRejectsOtherHashes(t *testing.T) {
	a, uri := start(t, kmstest.MustKey(t))
	s, err := New(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	kmstest.RejectsOtherHashes(t, s, 31)
	if a.Signs() != 0 {
		t.Error("a refused request reached Key Vault")
	}
}

func FuzzParseURI(f *testing.F) {
	for _, s := range []string{"azurekms://v.vault.azure.net/k", "azurekms://v.vault.azure.net/k/0123", "azurekms://127.0.0.1:8443/k", "azurekms://127.0.0.0: /0", "azurekms://127.0.0.1:+1/k", "azurekms://", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		host, name, version, scope, err := parseURI(uri)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "azurekms: ") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("bad error %q", err)
			}
			return
		}
		if strings.ContainsAny(host+name+version, "/?#%@\\ \x00") || scope == "" || name == "" {
			t.Fatalf("parseURI(%q) = %q %q %q %q", uri, host, name, version, scope)
		}
	})
}
