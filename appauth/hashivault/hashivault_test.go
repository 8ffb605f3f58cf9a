package hashivault

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth/internal/kmstest"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/fakekms"
)

// setEnv applies KEY=VALUE pairs for the test and points HOME away from the user's token file.
func setEnv(t testing.TB, env []string) {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	for _, k := range []string{"VAULT_ADDR", "VAULT_TOKEN", "VAULT_CACERT", "VAULT_NAMESPACE", "TRANSIT_SECRET_ENGINE_PATH"} {
		t.Setenv(k, "")
	}
	kmstest.SetEnv(t, env)
}

// start runs a fake Vault holding key as transit key "ghapp" until the test ends, and points the
// environment at it.
func start(t testing.TB, key *rsa.PrivateKey) (*fakekms.Vault, string) {
	t.Helper()
	v, uri, env, err := fakekms.StartVault(key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	setEnv(t, env)
	return v, uri
}

// The app's key imported into Vault transit signs a JWT that the fake GitHub accepts.
func TestSignsAppJWT(t *testing.T) {
	gh, app := kmstest.GitHub(t)
	v, uri := start(t, app.Key)
	kmstest.SignsAppJWT(t, gh, app, uri, New, "Vault")
	if v.Signs() != 1 {
		t.Fatalf("Vault made %d signatures, want 1", v.Signs())
	}
}

// The signer pins the newest version, whose public key it read; the token file and
// VAULT_NAMESPACE and TRANSIT_SECRET_ENGINE_PATH are honoured.
func TestNewestVersionTokenFileNamespaceMount(t *testing.T) {
	old, _ := rsa.GenerateKey(rand.Reader, 2048)
	cur, _ := rsa.GenerateKey(rand.Reader, 2048)
	v, err := fakekms.NewVault()
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	v.Mount, v.Namespace = "pki-transit", "team-a"
	v.AddKey("app", &fakekms.VaultKey{Type: "rsa-2048", Versions: []*rsa.PrivateKey{old, cur}})
	ca, _ := fakekms.CAFile()
	home := t.TempDir()
	setEnv(t, []string{"VAULT_ADDR=" + v.URL + "/", "VAULT_CACERT=" + ca, "VAULT_NAMESPACE=team-a", "TRANSIT_SECRET_ENGINE_PATH=/pki-transit/"})
	t.Setenv("HOME", home)
	writeFile(t, home+"/.vault-token", v.Token+"\n")
	s, err := New(context.Background(), "hashivault://app")
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256([]byte("x"))
	sig, err := s.Sign(nil, d[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(&cur.PublicKey, crypto.SHA256, d[:], sig); err != nil {
		t.Fatal("not signed with the newest version")
	}
}

func TestWrongKeyType(t *testing.T) {
	for _, typ := range []string{"ecdsa-p256", "ed25519", "aes256-gcm96"} {
		t.Run(typ, func(t *testing.T) {
			v, err := fakekms.NewVault()
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			v.AddKey("k", &fakekms.VaultKey{Type: typ, Versions: []*rsa.PrivateKey{nil}})
			ca, _ := fakekms.CAFile()
			setEnv(t, []string{"VAULT_ADDR=" + v.URL, "VAULT_TOKEN=" + v.Token, "VAULT_CACERT=" + ca})
			_, err = New(context.Background(), "hashivault://k")
			want := `hashivault: transit key "k" is of type "` + typ + `"; GitHub App JWTs need type rsa-2048, rsa-3072 or rsa-4096`
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("err = %v, want prefix %q", err, want)
			}
		})
	}
}

func TestPermissionDenied(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	for _, deny := range []string{"read", "sign", "token"} {
		t.Run(deny, func(t *testing.T) {
			v, uri := start(t, key)
			v.AddKey("ghapp", &fakekms.VaultKey{Type: "rsa-2048", Versions: []*rsa.PrivateKey{key}, Deny: map[string]bool{deny: true}})
			if deny == "token" {
				t.Setenv("VAULT_TOKEN", "hvs.expired-secret-token")
			}
			s, err := New(context.Background(), uri)
			if err == nil {
				d := sha256.Sum256(nil)
				_, err = s.Sign(nil, d[:], crypto.SHA256)
			}
			if err == nil || !strings.Contains(err.Error(), `hashivault: permission denied for transit key "ghapp": the token's policy needs`) ||
				!strings.Contains(err.Error(), "update on transit/sign/ghapp, read on transit/keys/ghapp") {
				t.Fatalf("err = %v", err)
			}
			if strings.Contains(err.Error(), v.Token) || strings.Contains(err.Error(), "expired-secret") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error leaks the token or spans lines: %q", err)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	addr := kmstest.ClosedAddr(t) // nothing listens there now
	setEnv(t, []string{"VAULT_ADDR=https://" + addr, "VAULT_TOKEN=hvs.secret"})
	_, err := New(context.Background(), "hashivault://k")
	want := "hashivault: cannot reach Vault at https://" + addr + ": "
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "; check VAULT_ADDR, the network and VAULT_CACERT") || strings.Contains(err.Error(), "hvs.secret") {
		t.Fatalf("err = %v", err)
	}
}

// A Vault whose certificate the client does not trust is unreachable too, and says so.
func TestUntrustedCertificate(t *testing.T) {
	_, uri := start(t, kmstest.MustKey(t))
	t.Setenv("VAULT_CACERT", "")
	t.Setenv("SSL_CERT_FILE", writeFile(t, t.TempDir()+"/empty.pem", ""))
	if _, err := New(context.Background(), uri); err == nil || !strings.Contains(err.Error(), "cannot reach Vault") {
		t.Fatalf("err = %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		env  []string
		uri  string
		want string
	}{
		{nil, "hashivault://k", "hashivault: VAULT_ADDR is not set"},
		{[]string{"VAULT_ADDR=https://127.0.0.1:1"}, "hashivault://k", "hashivault: no Vault token: set VAULT_TOKEN or run `vault login`"},
		{[]string{"VAULT_ADDR=http://vault.example.com:8200", "VAULT_TOKEN=t"}, "hashivault://k", `hashivault: VAULT_ADDR "http://vault.example.com:8200" is plain http; use https`},
		// A name that only starts like a loopback address can point anywhere (127.0.0.1.nip.io).
		{[]string{"VAULT_ADDR=http://127.0.0.1.nip.io:8200", "VAULT_TOKEN=t"}, "hashivault://k", `hashivault: VAULT_ADDR "http://127.0.0.1.nip.io:8200" is plain http; use https`},
		{[]string{"VAULT_ADDR=https://root:s3cret@vault.example.com"}, "hashivault://k", "hashivault: VAULT_ADDR carries a user name or password; remove it"},
		{[]string{"VAULT_ADDR=ftp://x"}, "hashivault://k", `hashivault: VAULT_ADDR "ftp://x" is not an http(s) URL`},
		{nil, "hashivault://", `hashivault: signer "hashivault://": the key name must be`},
		{nil, "hashivault://a/b", `hashivault: signer "hashivault://a/b": the key name must be`},
		{nil, "hashivault://..", `hashivault: signer "hashivault://..": the key name must be`},
		{nil, "awskms:///x", `hashivault: signer "awskms:///x" does not start with hashivault://`},
	}
	for _, c := range cases {
		setEnv(t, c.env)
		_, err := New(context.Background(), c.uri)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%v %s: err = %v, want prefix %q", c.env, c.uri, err, c.want)
		}
	}
}

// Sign refuses what RS256 is not.
func TestSignRejectsOtherHashes(t *testing.T) {
	v, uri := start(t, kmstest.MustKey(t))
	s, err := New(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	kmstest.RejectsOtherHashes(t, s, 20)
	if v.Signs() != 0 {
		t.Error("a refused request reached Vault")
	}
}

func FuzzParseURI(f *testing.F) {
	for _, s := range []string{"hashivault://k", "hashivault://", "hashivault:///", "hashivault://a/b", "hashivault://%00", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		name, err := parseURI(uri)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "hashivault: ") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("bad error %q", err)
			}
			return
		}
		if name == "" || strings.ContainsAny(name, "/?#%\x00") {
			t.Fatalf("parseURI(%q) = %q", uri, name)
		}
	})
}
