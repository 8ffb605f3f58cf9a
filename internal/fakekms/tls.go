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
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// The test CA is made once per process: Go reads the system roots (SSL_CERT_FILE, SSL_CERT_DIR)
// once per process, so every fake must chain to the same CA for in-process tests to trust them.
var (
	caOnce sync.Once
	caDir  string
	caCert *x509.Certificate
	caKey  *ecdsa.PrivateKey
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
		caKey, caErr = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if caErr != nil {
			return
		}
		now := time.Now()
		tmpl := &x509.Certificate{
			SerialNumber:          serial(),
			Subject:               pkix.Name{Organization: []string{"fakekms"}, CommonName: "fakekms test CA"},
			NotBefore:             now.Add(-24 * time.Hour),
			NotAfter:              now.Add(7 * 24 * time.Hour),
			IsCA:                  true,
			BasicConstraintsValid: true,
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		}
		var der []byte
		der, caErr = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &caKey.PublicKey, caKey)
		if caErr != nil {
			return
		}
		caCert, caErr = x509.ParseCertificate(der)
		if caErr != nil {
			return
		}
		caErr = os.WriteFile(filepath.Join(caDir, "ca.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
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
	p.AddCert(caCert)
	return p, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return n
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
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Organization: []string{"fakekms"}, CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-24 * time.Hour),
		NotAfter:     now.Add(7 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &leafKey.PublicKey, caKey)
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
		Certificates: []tls.Certificate{{Certificate: [][]byte{der, caCert.Raw}, PrivateKey: leafKey}},
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
