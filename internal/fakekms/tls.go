// Package fakekms runs stand-ins for three key stores that can sign a GitHub App's JWT without
// the key leaving the store: Google Cloud KMS, Azure Key Vault and HashiCorp Vault's transit
// engine. None of them has an emulator that can run here, so each fake is written from the
// provider's own REST documentation (cited next to each route) and enforces the rules a real
// client trips over: the digest versus the message, the algorithm names, the authentication
// header, and the provider's error shape. Every fake listens on 127.0.0.1 over real TLS, with a
// certificate from one test CA per process (see CADir).
//
// Start* helpers seed a fake with a given RSA key and return the URI and environment a helper
// process needs to sign with it; end-to-end tests use them with the fake GitHub's app key.
package fakekms

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/internal/testca"
)

// The test CA is made once per process: Go reads the system roots (SSL_CERT_FILE, SSL_CERT_DIR)
// once per process, so every fake must chain to the same CA for in-process tests to trust them.
var (
	caOnce sync.Once
	caDir  string
	testCA *testca.CA
	caErr  error
)

// CADir returns a directory holding one file, ca.pem, the CA that signs every fake's TLS
// certificate in this process. Point SSL_CERT_DIR at it (Go on Linux adds every certificate in
// those directories to the system roots, on top of SSL_CERT_FILE, so it combines with the fake
// GitHub's CA), or VAULT_CACERT at CAFile().
func CADir() (string, error) {
	caOnce.Do(func() {
		caDir, caErr = os.MkdirTemp("", "fakekms-ca-")
		if caErr != nil {
			return
		}
		testCA, caErr = testca.New("fakekms")
		if caErr != nil {
			return
		}
		caErr = os.WriteFile(filepath.Join(caDir, "ca.pem"), testCA.PEM, 0o644)
	})
	return caDir, caErr
}

// CAFile returns the path of the CA certificate (PEM) that CADir holds.
func CAFile() (string, error) {
	dir, err := CADir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "ca.pem"), nil
}

// CAPool returns a pool holding the fakes' CA, for clients that take a pool.
func CAPool() (*x509.CertPool, error) {
	if _, err := CADir(); err != nil {
		return nil, err
	}
	p := x509.NewCertPool()
	p.AddCert(testCA.Cert)
	return p, nil
}

// server is the TLS listener every fake shares.
type server struct {
	URL  string // https://127.0.0.1:PORT
	Host string // 127.0.0.1:PORT
	srv  *http.Server
	ln   net.Listener
}

// listen serves h on 127.0.0.1 on a free port over TLS with a certificate from the test CA.
func listen(h http.Handler) (*server, error) {
	if _, err := CADir(); err != nil {
		return nil, err
	}
	leaf, err := testCA.ServerCert()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &server{URL: "https://" + ln.Addr().String(), Host: ln.Addr().String(), ln: ln}
	s.srv = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	tlsLn := tls.NewListener(ln, &tls.Config{
		Certificates: []tls.Certificate{leaf},
		MinVersion:   tls.VersionTLS12,
	})
	go s.srv.Serve(tlsLn) //nolint:errcheck // returns ErrServerClosed on Close
	return s, nil
}

func (s *server) close() { s.srv.Close() }

// writeJSON answers with status and v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) //nolint:errcheck // the client may have gone
}

// readJSON decodes a request body of at most 64 KiB into v.
func readJSON(r *http.Request, v any) error {
	return json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(v)
}

// newToken returns a random bearer token.
func newToken(prefix string) string {
	b := make([]byte, 24)
	rand.Read(b) //nolint:errcheck // crypto/rand does not fail
	return prefix + hex.EncodeToString(b)
}
