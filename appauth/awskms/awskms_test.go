package awskms_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth/awskms"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/keystoretest"
)

var appKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

func key(t *testing.T) *rsa.PrivateKey {
	k, err := appKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

const (
	keyID     = "0d6c3a4f-6b2e-4c4e-9a7e-3f1b2c3d4e5f"
	encryptID = "7a1c8e2b-1d3f-4a5b-8c9d-0e1f2a3b4c5d"
	arn       = "arn:aws:kms:eu-west-2:111122223333:key/" + keyID
)

// env points the AWS SDK at endpoint with dummy credentials and nothing of the developer's.
func env(t *testing.T, endpoint string) {
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_KMS":        endpoint,
		"AWS_ENDPOINT_URL":            "",
		"AWS_REGION":                  "eu-west-2",
		"AWS_DEFAULT_REGION":          "",
		"AWS_ACCESS_KEY_ID":           "AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY":       "secret",
		"AWS_SESSION_TOKEN":           "",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             "/nonexistent",
		"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
}

// The app's key seeded into local-kms signs RS256 through every URI form that names it; the
// SDK finds the emulator through AWS_ENDPOINT_URL_KMS.
func TestSignsRS256OnLocalKMS(t *testing.T) {
	k := key(t)
	endpoint := keystoretest.LocalKMS(t, keystoretest.KMSKey{ID: keyID, Alias: "alias/ci-bot", Key: k})
	env(t, endpoint)
	for _, uri := range []string{"awskms:///" + keyID, "awskms:///alias/ci-bot", "awskms:///" + arn} {
		t.Run(uri, func(t *testing.T) {
			s, err := awskms.New(context.Background(), uri)
			if err != nil {
				t.Fatal(err)
			}
			if pub, ok := s.Public().(*rsa.PublicKey); !ok || !pub.Equal(&k.PublicKey) {
				t.Fatalf("Public() is not the app's key")
			}
			msg := []byte("header.claims")
			sum := sha256.Sum256(msg)
			sig, err := s.Sign(rand.Reader, sum[:], crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			if err := rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
				t.Fatalf("KMS's signature is not RS256 with the app's key: %v", err)
			}
			if _, err := s.Sign(rand.Reader, msg, crypto.SHA256); err == nil {
				t.Error("Sign accepted a digest that is not 32 bytes")
			}
		})
	}
}

// AWS_ENDPOINT_URL (for every service) works too, and a key of the wrong usage, an unknown key
// and an unreachable endpoint are each one line that names the fix.
func TestErrorsOnLocalKMS(t *testing.T) {
	endpoint := keystoretest.LocalKMS(t,
		keystoretest.KMSKey{ID: keyID, Key: key(t)},
		keystoretest.KMSKey{ID: encryptID, Key: key(t), Usage: "ENCRYPT_DECRYPT"})
	env(t, "")
	t.Setenv("AWS_ENDPOINT_URL", endpoint)
	if err := check("awskms:///" + keyID); err != nil {
		t.Fatalf("AWS_ENDPOINT_URL: %v", err)
	}
	for _, tc := range []struct{ name, uri, wantCheck, wantSign string }{
		{"encryption key", "awskms:///" + encryptID, "is for ENCRYPT_DECRYPT, not SIGN_VERIFY", "cannot sign: "},
		{"no such key", "awskms:///alias/nope", "has no key alias/nope", "has no key alias/nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// setup and doctor check at once; a mint finds the same at its signature.
			checkErr(t, check(tc.uri), tc.wantCheck)
			checkErr(t, sign(tc.uri), tc.wantSign)
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close() // a port nothing listens on
		t.Setenv("AWS_ENDPOINT_URL", srv.URL)
		t.Setenv("AWS_MAX_ATTEMPTS", "1")
		checkErr(t, check("awskms:///"+keyID), "cannot reach KMS at "+srv.URL)
		checkErr(t, sign("awskms:///"+keyID), "cannot reach KMS at "+srv.URL)
	})
	t.Run("no credentials", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", "")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "")
		checkErr(t, sign("awskms:///"+keyID), "no AWS credentials found: set AWS_PROFILE")
	})
	t.Run("no region", func(t *testing.T) {
		t.Setenv("AWS_REGION", "")
		_, err := awskms.New(context.Background(), "awskms:///"+keyID)
		checkErr(t, err, "no AWS region: set AWS_REGION")
	})
}

// AWS's answer for a missing permission (an AccessDeniedException, which the emulator never
// gives) names the two actions the identity needs. The answer's shape is AWS's JSON 1.1 error:
// the x-amzn-ErrorType header and a body with __type and message (KMS API reference, "Common
// Errors"; the SDK reads either).
func TestAccessDeniedNamesTheActions(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		action := "kms:" + strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "TrentService.")
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("x-amzn-ErrorType", "AccessDeniedException")
		w.WriteHeader(400)
		w.Write([]byte(`{"__type":"AccessDeniedException","message":"User: arn:aws:sts::111122223333:assumed-role/ci/i-0 is not authorized to perform: ` +
			action + ` on this resource because no identity-based policy allows the ` + action + ` action"}`))
	}))
	defer srv.Close()
	env(t, srv.URL)
	checkErr(t, check("awskms:///alias/ci-bot"), "access denied to alias/ci-bot (kms:GetPublicKey): allow kms:GetPublicKey and kms:Sign")
	checkErr(t, sign("awskms:///alias/ci-bot"), "access denied to alias/ci-bot (kms:Sign): allow kms:GetPublicKey and kms:Sign")
}

// A mint pays KMS one round trip: opening the signer and signing the JWT's digest sends exactly
// one request, the Sign (counted by a proxy in front of the emulator).
func TestMintPaysOneRoundTrip(t *testing.T) {
	endpoint := keystoretest.LocalKMS(t, keystoretest.KMSKey{ID: keyID, Alias: "alias/ci-bot", Key: key(t)})
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var calls []string
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls = append(calls, r.Header.Get("X-Amz-Target"))
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	defer srv.Close()
	env(t, srv.URL)
	if err := sign("awskms:///alias/ci-bot"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 1 || calls[0] != "TrentService.Sign" {
		t.Fatalf("a signature sent %v to KMS; want one TrentService.Sign", calls)
	}
}

// check opens uri and checks its key, as setup and doctor do.
func check(uri string) error {
	s, err := awskms.New(context.Background(), uri)
	if err != nil {
		return err
	}
	return s.(*awskms.Signer).Check(context.Background())
}

// sign opens uri and signs a digest with it, as a mint does.
func sign(uri string) error {
	s, err := awskms.New(context.Background(), uri)
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte("header.claims"))
	_, err = s.Sign(rand.Reader, sum[:], crypto.SHA256)
	return err
}

func TestParseURI(t *testing.T) {
	for _, tc := range []struct{ uri, endpoint, key, region string }{
		{"awskms:///" + keyID, "", keyID, ""},
		{"awskms:///alias/ci/bot", "", "alias/ci/bot", ""},
		{"awskms:///" + arn, "", arn, "eu-west-2"},
		{"awskms:///arn:aws:kms:us-east-1:111122223333:alias/ci-bot", "", "arn:aws:kms:us-east-1:111122223333:alias/ci-bot", "us-east-1"},
		{"awskms://kms.internal:4443/alias/ci-bot", "kms.internal:4443", "alias/ci-bot", ""},
	} {
		e, k, r, err := awskms.ParseURI(tc.uri)
		if err != nil || e != tc.endpoint || k != tc.key || r != tc.region {
			t.Errorf("ParseURI(%q) = %q, %q, %q, %v", tc.uri, e, k, r, err)
		}
	}
	for _, bad := range []string{"awskms://", "awskms:///", "awskms:alias/x", "awskms:///alias/x y", "awskms://u@h/alias/x", "awskms:///key/../x"} {
		if _, _, _, err := awskms.ParseURI(bad); err == nil || !strings.HasPrefix(err.Error(), "awskms: ") {
			t.Errorf("ParseURI(%q) err = %v", bad, err)
		}
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "awskms: ") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v, want one line with %q", err, want)
	}
}

// BenchmarkSign is one Sign round trip to the local-kms emulator on loopback: the floor of what
// a mint pays to AWS KMS (a real KMS adds the network to its region).
func BenchmarkSign(b *testing.B) {
	k, err := appKey()
	if err != nil {
		b.Fatal(err)
	}
	endpoint := keystoretest.LocalKMS(b, keystoretest.KMSKey{ID: keyID, Alias: "alias/ci-bot", Key: k})
	for name, v := range map[string]string{"AWS_ENDPOINT_URL_KMS": endpoint, "AWS_REGION": "eu-west-2", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY": "secret", "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"} {
		b.Setenv(name, v)
	}
	s, err := awskms.New(context.Background(), "awskms:///alias/ci-bot")
	if err != nil {
		b.Fatal(err)
	}
	sum := sha256.Sum256([]byte("header.claims"))
	for b.Loop() {
		if _, err := s.Sign(rand.Reader, sum[:], crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
}

// With no credentials anywhere, the SDK's chain ends at the instance metadata service (here a
// fake on loopback that refuses, as a machine outside EC2 would); the one error line says what to
// set, and the SDK writes nothing of its own to stderr (it would warn "falling back to IMDSv1").
func TestNoCredentialsIsOneLine(t *testing.T) {
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "forbidden", http.StatusForbidden)
	}))
	defer imds.Close()
	env(t, "http://127.0.0.1:1")
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "")
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.URL)
	t.Setenv("AWS_MAX_ATTEMPTS", "1")

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = w
	err = sign("awskms:///alias/ci-bot")
	os.Stderr = stderr
	w.Close()
	logged, _ := io.ReadAll(r)
	checkErr(t, err, "no AWS credentials found")
	if len(logged) > 0 {
		t.Errorf("the SDK wrote to stderr: %s", logged)
	}
}
