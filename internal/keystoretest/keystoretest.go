// Package keystoretest starts the real key stores the signer tests run against, on this machine
// only: OpenSSH's ssh-agent (loaded with ssh-add) and the local-kms AWS KMS emulator (seeded with
// the app's key). A test that needs a tool that is missing skips, except under CI=true, where it
// fails: CI installs them (.ci/run).
package keystoretest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/internal/testhome"
)

// SSHAgent starts OpenSSH's ssh-agent on a socket of its own in a temporary directory, adds the
// given private keys (PEM files) with ssh-add, and returns the socket's path (for SSH_AUTH_SOCK).
// The agent is stopped when the test ends.
func SSHAgent(t testing.TB, keyFiles ...string) string {
	t.Helper()
	agent := testhome.Need(t, "ssh-agent", "Debian package openssh-client")
	add := testhome.Need(t, "ssh-add", "Debian package openssh-client")
	// A short directory: a Unix socket's path is limited to about 100 bytes.
	dir, err := os.MkdirTemp("", "agent")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "s")
	cmd := exec.Command(agent, "-D", "-a", sock)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitFor(t, "ssh-agent", func() bool {
		c, err := net.Dial("unix", sock)
		ok := err == nil
		if ok {
			c.Close()
		}
		return ok
	}, &stderr)
	for _, f := range keyFiles {
		c := exec.Command(add, f)
		c.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock, "SSH_ASKPASS=", "DISPLAY=")
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("ssh-add %s: %v\n%s", f, err, out)
		}
	}
	return sock
}

// Fingerprint returns the SHA256 fingerprints of the keys in the agent at sock, as
// `ssh-add -l -E sha256` prints them.
func Fingerprint(t testing.TB, sock string) []string {
	t.Helper()
	c := exec.Command(testhome.Need(t, "ssh-add", "Debian package openssh-client"), "-l", "-E", "sha256")
	c.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	out, err := c.Output()
	if err != nil {
		t.Fatalf("ssh-add -l: %v", err)
	}
	var fps []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(line); len(f) >= 2 {
			fps = append(fps, f[1])
		}
	}
	return fps
}

// LocalKMSEnv names the variable that holds the path of the local-kms binary; .ci/run installs
// it with `go install github.com/nsmithuk/local-kms@VERSION` outside this module.
const LocalKMSEnv = "GHAPP_TEST_LOCAL_KMS"

// KMSKey is a key to seed local-kms with.
type KMSKey struct {
	ID    string // a UUID
	Alias string // "alias/NAME", or ""
	Key   *rsa.PrivateKey
	Usage string // SIGN_VERIFY (the default) or ENCRYPT_DECRYPT
}

// LocalKMS starts the local-kms emulator on a free loopback port with its data in a temporary
// directory, seeded with keys, and returns its endpoint URL (http://127.0.0.1:PORT). The
// emulator's account is 111122223333 and its region eu-west-2. It is stopped when the test ends.
func LocalKMS(t testing.TB, keys ...KMSKey) string {
	t.Helper()
	bin := os.Getenv(LocalKMSEnv)
	if bin == "" {
		bin, _ = exec.LookPath("local-kms")
	}
	if bin == "" {
		how := "set " + LocalKMSEnv + " to a binary built with go install github.com/nsmithuk/local-kms@VERSION (see .ci/run)"
		if os.Getenv("CI") == "true" {
			t.Fatalf("the local-kms emulator is missing: %s", how)
		}
		t.Skipf("the local-kms emulator is missing: %s", how)
	}
	dir := t.TempDir()
	var seed strings.Builder
	seed.WriteString("Keys:\n  Asymmetric:\n    Rsa:\n")
	var aliases strings.Builder
	for _, k := range keys {
		der, err := x509.MarshalPKCS8PrivateKey(k.Key)
		if err != nil {
			t.Fatal(err)
		}
		usage := k.Usage
		if usage == "" {
			usage = "SIGN_VERIFY"
		}
		fmt.Fprintf(&seed, "      - Metadata:\n          KeyId: %s\n          KeyUsage: %s\n        PrivateKeyPem: |\n", k.ID, usage)
		for _, line := range strings.Split(strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))), "\n") {
			seed.WriteString("          " + line + "\n")
		}
		if k.Alias != "" {
			fmt.Fprintf(&aliases, "  - AliasName: %s\n    TargetKeyId: %s\n", k.Alias, k.ID)
		}
	}
	if aliases.Len() > 0 {
		seed.WriteString("Aliases:\n" + aliases.String())
	}
	seedPath := filepath.Join(dir, "seed.yaml")
	if err := os.WriteFile(seedPath, []byte(seed.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Dir = dir
	// PORT=0: it binds a free port (on every interface: it has no bind-address setting) and logs
	// "Local KMS started on 0.0.0.0:PORT"; the tests only ever talk to it on 127.0.0.1.
	cmd.Env = append(os.Environ(), "PORT=0", "KMS_SEED_PATH="+seedPath,
		"KMS_DATA_PATH="+filepath.Join(dir, "data"), "KMS_ACCOUNT_ID=111122223333", "KMS_REGION=eu-west-2")
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); pw.Close() })
	portc := make(chan string, 1)
	var log safeBuffer
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if m := startedRe.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case portc <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case port := <-portc:
		return "http://127.0.0.1:" + port
	case <-time.After(30 * time.Second):
		t.Fatalf("local-kms did not start within 30s: %s", log.String())
		return ""
	}
}

var startedRe = regexp.MustCompile(`Local KMS started on [^ ]*:(\d+)`)

// safeBuffer is a bytes.Buffer that a goroutine writes while a test may read it.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) WriteString(x string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.WriteString(x)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func waitFor(t testing.TB, what string, ready func() bool, out *bytes.Buffer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for !ready() {
		select {
		case <-ctx.Done():
			t.Fatalf("%s did not start within 20s: %s", what, out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// SSHAdd runs ssh-add with args against the agent at sock (e.g. "-D" to remove every key).
func SSHAdd(t testing.TB, sock string, args ...string) {
	t.Helper()
	c := exec.Command(testhome.Need(t, "ssh-add", "Debian package openssh-client"), args...)
	c.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add %v: %v\n%s", args, err, out)
	}
}
