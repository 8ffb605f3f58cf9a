package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth/keystore"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/fakekms"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/keystoretest"
)

// signerE2E is an end-to-end world whose app key lives only in a key store: the .pem the fake
// GitHub handed out is loaded into the store by the caller and then deleted, and no key variable
// or keyring can serve it (the tests' OS keyring always fails).
func signerE2E(t *testing.T, load func(x *e2e, pemFile string)) *e2e {
	t.Helper()
	x := newE2E(t)
	pemFile := filepath.Join(x.dir, "app.pem")
	load(x, pemFile)
	if err := os.Remove(pemFile); err != nil {
		t.Fatal(err)
	}
	x.vars["GHAPP_PRIVATE_KEY_FILE"] = ""
	x.vars["GHAPP_PRIVATE_KEY"] = ""
	x.vars["GHAPP_APP_ID"] = "" // setup's helper line carries it, and doctor reads that line
	return x
}

// runSignerStory is what a person does with a key store: setup --signer (checked with GitHub,
// a helper line with no key path), doctor (one signature, timed), then git clone and push as the
// app with no key anywhere on the machine. With the signer set, the key variables are not read
// even when they are set: here they name a file that does not exist and hold a broken key.
func runSignerStory(t *testing.T, x *e2e, uri string) {
	t.Helper()
	ctx := context.Background()
	host := x.vars["HOST"]
	out, stderr, err := x.helperRun(ctx, "", "setup", "--app-id", x.vars["APP_ID"], "--signer", uri)
	if err != nil || stderr != "" {
		t.Fatalf("setup --signer: %v\n%s%s", err, out, stderr)
	}
	for _, want := range []string{"signer: " + uri + " (RSA, 2048 bits)", "accepts the key: app ci-bot", "the key stays in its key store: nothing to store"} {
		if !strings.Contains(out, want) {
			t.Errorf("setup's output lacks %q:\n%s", want, out)
		}
	}
	config, err := os.ReadFile(x.vars["GIT_CONFIG_GLOBAL"])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(config), "--signer "+uri) || strings.Contains(string(config), "--key-file") {
		t.Errorf("setup wrote a helper line that is not --signer %s without a key path:\n%s", uri, config)
	}
	if got := x.srv.Count("GET /app"); got != 1 {
		t.Errorf("setup asked GET /app %d times, want 1", got)
	}

	out, _, err = x.helperRun(ctx, "", "doctor") // with the options of the helper line setup wrote
	if err != nil || !strings.Contains(out, "ok    signer: "+uri+" (RSA, 2048 bits), opened in ") ||
		!strings.Contains(out, "ok    signature: one RS256 signature took ") || !strings.Contains(out, "ok    JWT: GitHub at") {
		t.Errorf("doctor: %v\n%s", err, out)
	}

	x.vars["GHAPP_PRIVATE_KEY_FILE"] = filepath.Join(x.dir, "deleted.pem")
	x.vars["GHAPP_PRIVATE_KEY"] = "-----BEGIN RSA PRIVATE KEY-----\nbroken\n-----END RSA PRIVATE KEY-----\n"
	x.srv.ResetCounters()
	url := "https://" + host + "/acme/app.git"
	if out, err := x.git(t, "clone", url, "app"); err != nil {
		t.Fatalf("clone: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(x.dir, "app", "signed.txt"), []byte("signed in a key store\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"-C", "app", "add", "signed.txt"}, {"-C", "app", "commit", "-qm", "from a key store"}, {"-C", "app", "push", "origin", "HEAD"}} {
		if out, err := x.git(t, args...); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if got := x.srv.Count(mintRoute); got != 1 {
		t.Errorf("clone and push minted %d times, want 1 (the push reuses the token)", got)
	}
	if out, err := x.git(t, "ls-remote", url); err != nil || !strings.Contains(out, "refs/heads/main") {
		t.Fatalf("ls-remote after push: %v\n%s", err, out)
	}
}

// The app's .pem added to OpenSSH's real ssh-agent with ssh-add, then deleted: git clones and
// pushes with ssh-agent: (the agent's only RSA key) and with ssh-agent:SHA256:FP.
func TestSSHAgentSignerEndToEnd(t *testing.T) {
	for _, byFingerprint := range []bool{false, true} {
		name := "only-key"
		if byFingerprint {
			name = "fingerprint"
		}
		t.Run(name, func(t *testing.T) {
			var sock string
			x := signerE2E(t, func(x *e2e, pemFile string) {
				sock = keystoretest.SSHAgent(t, pemFile)
				x.vars["SSH_AUTH_SOCK"] = sock
			})
			uri := "ssh-agent:"
			if byFingerprint {
				uri += keystoretest.Fingerprint(t, sock)[0]
			}
			runSignerStory(t, x, uri)
		})
	}
}

// The app's .pem seeded into the local-kms AWS KMS emulator under an alias, then deleted: git
// clones and pushes with awskms:///alias/NAME, the SDK finding the emulator through
// AWS_ENDPOINT_URL_KMS.
func TestAWSKMSSignerEndToEnd(t *testing.T) {
	x := signerE2E(t, func(x *e2e, pemFile string) {
		key := readAppKey(t, pemFile)
		endpoint := keystoretest.LocalKMS(t, keystoretest.KMSKey{ID: "2f7c1d5e-8a4b-4c3d-9e2f-1a0b9c8d7e6f", Alias: "alias/ci-bot", Key: key})
		for k, v := range awsTestEnv(endpoint) {
			x.vars[k] = v
		}
	})
	runSignerStory(t, x, "awskms:///alias/ci-bot")
}

// readAppKey reads the PKCS#1 .pem the fake GitHub handed out, to import it into a key store.
func readAppKey(t *testing.T, pemFile string) *rsa.PrivateKey {
	t.Helper()
	data, err := os.ReadFile(pemFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s holds no PEM block", pemFile)
	}
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// awsTestEnv points the AWS SDK at the emulator with dummy credentials, and at nothing of the
// developer's own AWS configuration.
func awsTestEnv(endpoint string) map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL_KMS":        endpoint,
		"AWS_ENDPOINT_URL":            "",
		"AWS_REGION":                  "eu-west-2",
		"AWS_DEFAULT_REGION":          "",
		"AWS_ACCESS_KEY_ID":           "AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY":       "not-a-secret",
		"AWS_SESSION_TOKEN":           "",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_EC2_METADATA_DISABLED":   "true",
	}
}

// BenchmarkColdGet is a whole get with nothing cached (installation discovery, the JWT signed
// once, the mint: a new helper process each time, as git runs it) with the key in a file, in
// OpenSSH's ssh-agent, in the local-kms emulator and in the fakes of Cloud KMS, Key Vault and
// Vault (internal/fakekms): what a key store adds to a mint. The fake
// GitHub answers at once, so the differences are the signers'. Each iteration runs the three in
// turn (so that load on the machine falls on all alike) and the medians are reported as
// KIND-ms metrics.
func BenchmarkColdGet(b *testing.B) {
	dir := b.TempDir()
	w, vars, err := startWorld(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer w.srv.Close()
	helper, err := exec.LookPath("git-credential-ghapp")
	if err != nil {
		b.Fatal(err)
	}
	pemFile := filepath.Join(dir, "app.pem")
	vars["GHAPP_APP_ID"] = vars["APP_ID"]
	// Every kind trusts the same roots: Go reads the system's certificate directory (hundreds of
	// files, ~10 ms a process here) unless SSL_CERT_DIR names another, as the Cloud KMS and Key
	// Vault fakes need; without this those two would look faster than a key file.
	if vars["SSL_CERT_DIR"], err = fakekms.CADir(); err != nil {
		b.Fatal(err)
	}
	base := os.Environ()
	for k, v := range vars {
		base = append(base, k+"="+v)
	}
	withEnv := func(extra map[string]string) []string {
		env := slices.Clone(base)
		for k, v := range extra {
			env = append(env, k+"="+v)
		}
		return env
	}
	aws := awsTestEnv(keystoretest.LocalKMS(b, keystoretest.KMSKey{ID: "2f7c1d5e-8a4b-4c3d-9e2f-1a0b9c8d7e6f", Alias: "alias/ci-bot", Key: w.apps["ci-bot"].Key}))
	aws["GHAPP_SIGNER"] = "awskms:///alias/ci-bot"
	kinds := []struct {
		name string
		env  []string
		took []time.Duration
	}{
		{name: "key-file", env: withEnv(map[string]string{"GHAPP_PRIVATE_KEY_FILE": pemFile})},
		{name: "ssh-agent", env: withEnv(map[string]string{"GHAPP_SIGNER": "ssh-agent:", "SSH_AUTH_SOCK": keystoretest.SSHAgent(b, pemFile)})},
		{name: "awskms", env: withEnv(aws)},
	}
	for _, f := range startFakeStores(b, dir, w.apps["ci-bot"].Key) {
		vars := f.vars(dir)
		vars["GHAPP_SIGNER"] = f.uri
		kinds = append(kinds, struct {
			name string
			env  []string
			took []time.Duration
		}{name: f.name, env: withEnv(vars)})
	}
	req := fmt.Sprintf("protocol=https\nhost=%s\npath=acme/app.git\n\n", vars["HOST"])
	for b.Loop() {
		for i := range kinds {
			k := &kinds[i]
			run, err := os.MkdirTemp(dir, "run") // an empty cache each time
			if err != nil {
				b.Fatal(err)
			}
			cmd := exec.Command(helper, "get")
			cmd.Env = append(k.env, "XDG_RUNTIME_DIR="+run, "XDG_CACHE_HOME="+run)
			cmd.Stdin = strings.NewReader(req)
			start := time.Now()
			out, err := cmd.CombinedOutput()
			k.took = append(k.took, time.Since(start))
			if err != nil || !strings.Contains(string(out), "password=") {
				b.Fatalf("%s get: %v\n%s", k.name, err, out)
			}
		}
	}
	for _, k := range kinds {
		slices.Sort(k.took)
		b.ReportMetric(float64(k.took[len(k.took)/2])/float64(time.Millisecond), k.name+"-ms")
	}
}

// BenchmarkSignature is one RS256 signature of a JWT-sized message, in turn with the local key,
// through OpenSSH's ssh-agent, through the local-kms emulator and through the fakes of Cloud KMS,
// Key Vault and Vault (a real store adds the network to its region); the medians are reported as
// KIND-ms metrics.
func BenchmarkSignature(b *testing.B) {
	dir := b.TempDir()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	pemFile := filepath.Join(dir, "app.pem")
	if err := os.WriteFile(pemFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		b.Fatal(err)
	}
	b.Setenv("SSH_AUTH_SOCK", keystoretest.SSHAgent(b, pemFile))
	for k, v := range awsTestEnv(keystoretest.LocalKMS(b, keystoretest.KMSKey{ID: "2f7c1d5e-8a4b-4c3d-9e2f-1a0b9c8d7e6f", Alias: "alias/ci-bot", Key: key})) {
		b.Setenv(k, v)
	}
	ctx := context.Background()
	agent, err := keystore.Open(ctx, "ssh-agent:")
	if err != nil {
		b.Fatal(err)
	}
	kms, err := keystore.Open(ctx, "awskms:///alias/ci-bot")
	if err != nil {
		b.Fatal(err)
	}
	kinds := []struct {
		name string
		s    crypto.Signer
		took []time.Duration
	}{{name: "key", s: key}, {name: "ssh-agent", s: agent}, {name: "awskms", s: kms}}
	for _, f := range startFakeStores(b, dir, key) {
		for k, v := range f.vars(dir) {
			b.Setenv(k, v)
		}
		s, err := keystore.Open(ctx, f.uri)
		if err != nil {
			b.Fatal(err)
		}
		kinds = append(kinds, struct {
			name string
			s    crypto.Signer
			took []time.Duration
		}{name: f.name, s: s})
	}
	msg := []byte(strings.Repeat("x", 200)) // about a JWT's signing input
	for b.Loop() {
		for i := range kinds {
			k := &kinds[i]
			start := time.Now()
			if _, err := crypto.SignMessage(k.s, rand.Reader, msg, crypto.SHA256); err != nil {
				b.Fatalf("%s: %v", k.name, err)
			}
			k.took = append(k.took, time.Since(start))
		}
	}
	for _, k := range kinds {
		slices.Sort(k.took)
		b.ReportMetric(float64(k.took[len(k.took)/2])/float64(time.Millisecond), k.name+"-ms")
	}
}
