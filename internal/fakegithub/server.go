// Package fakegithub runs a faithful stand-in for GitHub on 127.0.0.1 over real
// TLS: the REST endpoints a GitHub App uses (JWT-authenticated installation
// discovery and token minting, laid out like GitHub Enterprise Server under
// /api/v3) and git's smart HTTP protocol served by the real `git http-backend`,
// guarded by installation access tokens. End-to-end tests and demos use it in
// place of github.com; it never talks to the network beyond its own listener.
//
// Behaviour follows GitHub's documentation and the responses people report
// from it (sources are named next to each message). Where GitHub's exact
// behaviour is unknown, the fake picks the stricter reading and says so in a
// comment.
package fakegithub

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/internal/testca"
)

// Config says where the fake keeps its files and which git it runs.
type Config struct {
	// Dir is the working directory for bare repositories (Dir/repos) and the
	// CA certificate file. Required; tests pass t.TempDir().
	Dir string
	// Git is the path of the git binary used to create repositories and to run
	// `git http-backend`. "" means exec.LookPath("git").
	Git string
}

// Server is a running fake GitHub. Its exported fields are set by New and
// never change; every method is safe for concurrent use.
type Server struct {
	// URL is the web and git root, "https://127.0.0.1:PORT".
	URL string
	// Host is "127.0.0.1:PORT", what git sends as host= to credential helpers.
	Host string
	// APIURL is the REST root, URL+"/api/v3" (GitHub Enterprise Server layout).
	APIURL string
	// CAFile is a PEM file holding the CA certificate that signed the server's
	// certificate; point GIT_SSL_CAINFO or SSL_CERT_FILE at it.
	CAFile string

	dir     string
	git     string
	httpSrv *http.Server
	client  *http.Client
	done    chan struct{}
	closing sync.Once
	wg      sync.WaitGroup // in-flight handlers; Add only under mu while !closed
	backend *lockedWriter  // stderr of git http-backend

	mu     sync.Mutex
	closed bool

	// world
	apps          []*App
	nextAppID     int64
	installs      map[int64]*Installation
	installMeta   map[int64]installMeta
	nextInstallID int64
	accounts      map[string]*account // by lower-case login
	nextAccountID int64
	repos         map[string]*repo // by lower-case "owner/name"
	moved         map[string]*repo // old lower-case "owner/name" of renamed or transferred repositories
	nextRepoID    int64
	tokens        map[string]*IssuedToken
	tokenOrder    []*IssuedToken

	// knobs
	latency       time.Duration
	clockOffset   time.Duration
	tokenLifetime time.Duration
	longTokens    bool
	lag           time.Duration // replication lag of new tokens
	appIDOnly     bool          // refuse a Client ID as JWT issuer (older GHES)
	faults        []*Fault

	// counters and logs
	counts      map[string]int
	apiCalls    int
	gitRequests int
	mints       []Mint
	requests    []Request
	rateUsed    int
	rateReset   time.Time

	lfs     lfsState          // Git LFS transfer grants (lfs.go)
	appKeys map[*App][]appKey // keys added and deleted by AddKey and DeleteKey (keys.go)
}

// Request is one entry of the request log.
type Request struct {
	Method string
	// Route is the matched route pattern, e.g. "POST /app/installations/{id}/access_tokens"
	// for REST or "POST /{owner}/{repo}/git-upload-pack" for git; for a request
	// that matched no route it is the method and the path as received.
	Route string
	// Path is the URL path as received (with /api/v3 for REST).
	Path string
	// Status is the HTTP status answered; 0 when a Drop fault closed the connection.
	Status int
	// Git is true for git smart HTTP requests.
	Git bool
	// Fault is true when a queued Fault produced the answer.
	Fault bool
}

// New starts a fake GitHub listening on 127.0.0.1 on a free port with TLS,
// and writes its CA certificate to Dir. It fails when Dir is empty or cannot
// be written, when git cannot be found, or when it cannot listen.
func New(cfg Config) (*Server, error) {
	if cfg.Dir == "" {
		return nil, errors.New("fakegithub: Config.Dir is required")
	}
	gitPath := cfg.Git
	if gitPath == "" {
		p, err := exec.LookPath("git")
		if err != nil {
			return nil, fmt.Errorf("fakegithub: git not found: %w", err)
		}
		gitPath = p
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("fakegithub: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "repos"), 0o755); err != nil {
		return nil, fmt.Errorf("fakegithub: %w", err)
	}
	ca, err := testca.New("fakegithub")
	if err != nil {
		return nil, fmt.Errorf("fakegithub: certificates: %w", err)
	}
	leaf, err := ca.ServerCert()
	if err != nil {
		return nil, fmt.Errorf("fakegithub: certificates: %w", err)
	}
	caFile := filepath.Join(dir, "fakegithub-ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o644); err != nil {
		return nil, fmt.Errorf("fakegithub: %w", err)
	}
	logFile, err := os.OpenFile(filepath.Join(dir, "http-backend.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("fakegithub: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		logFile.Close()
		return nil, fmt.Errorf("fakegithub: listen: %w", err)
	}
	host := ln.Addr().String()

	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	s := &Server{
		URL:           "https://" + host,
		Host:          host,
		APIURL:        "https://" + host + "/api/v3",
		CAFile:        caFile,
		dir:           dir,
		git:           gitPath,
		done:          make(chan struct{}),
		backend:       &lockedWriter{w: logFile, c: logFile},
		nextAppID:     1001,
		installs:      map[int64]*Installation{},
		installMeta:   map[int64]installMeta{},
		nextInstallID: 5001,
		accounts:      map[string]*account{},
		nextAccountID: 9001,
		repos:         map[string]*repo{},
		moved:         map[string]*repo{},
		nextRepoID:    700001,
		tokens:        map[string]*IssuedToken{},
		tokenLifetime: time.Hour,
		counts:        map[string]int{},
	}
	s.client = &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool},
		Proxy:           nil, // never send the fake's traffic through a proxy
	}}
	// HTTP/1.1 only: git and Go both speak it, and it lets a Drop fault hijack
	// the connection.
	tlsLn := tls.NewListener(ln, &tls.Config{
		Certificates: []tls.Certificate{leaf},
		NextProtos:   []string{"http/1.1"},
		MinVersion:   tls.VersionTLS12,
	})
	s.httpSrv = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // handshake noise from clients that distrust the CA
	}
	go s.httpSrv.Serve(tlsLn) //nolint:errcheck // returns ErrServerClosed on Close
	return s, nil
}

// Close stops the server, ends open connections and waits for handlers
// (including git http-backend processes) to finish. Calling it again does
// nothing.
func (s *Server) Close() {
	s.closing.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.done)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = s.httpSrv.Shutdown(ctx)
		cancel()
		_ = s.httpSrv.Close()
		s.wg.Wait()
		s.client.CloseIdleConnections()
		s.backend.Close()
	})
}

// Client returns an HTTP client that trusts the server's certificate and
// uses no proxy. The same client is returned on every call.
func (s *Server) Client() *http.Client { return s.client }

// RepoPath returns the directory of the bare repository "owner/name"
// (Dir/repos/owner/name.git), whether or not it exists. Lookup is
// case-insensitive for repositories added with AddRepo.
func (s *Server) RepoPath(fullName string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.repos[strings.ToLower(fullName)]; r != nil {
		return r.dir
	}
	return filepath.Join(s.dir, "repos", filepath.FromSlash(fullName)+".git")
}

// now is GitHub's clock: the real clock plus the configured offset.
func (s *Server) now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowLocked()
}

func (s *Server) nowLocked() time.Time { return time.Now().Add(s.clockOffset) }

// SetLatency adds d before every REST answer (git requests are not delayed).
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetClockOffset makes GitHub's clock run at real time + d. It drives the
// Date header, JWT time checks, expires_at of new tokens and token expiry.
func (s *Server) SetClockOffset(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clockOffset = d
}

// SetTokenLifetime sets the lifetime of tokens minted from now on (default 1h).
func (s *Server) SetTokenLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenLifetime = d
}

// SetReplicationLag makes GitHub refuse every token for d after it was minted, on the REST
// API and on git, as GitHub does until a new token has reached its data centres. Sources:
// octokit/auth-app.js retries a 401 for 5 s after minting (src/hook.ts; issue #65, PR #168) and
// its maintainer explains in issue #589: "401 - we can't find your token yet; 403 - scoped
// installation token, permissions aren't replicated yet"; coder/coder PR #8956 met it in
// production. So the fake answers 401 "Bad credentials" on the REST API for a token of the whole
// installation and 403 for a token limited to repositories, and 401 on git (GitHub's git
// endpoint cannot tell a token it has not replicated from an unknown one). 0 turns it off.
func (s *Server) SetReplicationLag(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lag = d
}

// SetAppIDOnly makes the server refuse a Client ID as a JWT's iss, as GitHub Enterprise Server
// did before the release that github/docs gates with data/features/client-id-for-app.yml
// (github.com accepts Client IDs since 2024-05-01, changelog). It answers 401 "'Issuer' claim
// ('iss') must be an Integer", the message quoted for a non-numeric iss in
// actions/create-github-app-token#386 and ethersphere/bee-factory#294.
func (s *Server) SetAppIDOnly(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appIDOnly = on
}

// SetLongTokens switches newly minted tokens between GitHub's classic format
// ("ghs_" + 36 alphanumerics) and its newer long format (about 520
// characters, "ghs_" then three base64url segments joined by dots).
func (s *Server) SetLongTokens(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.longTokens = on
}

// Count returns how many requests matched route since the last
// ResetCounters, e.g. Count("POST /app/installations/{id}/access_tokens").
// Git routes are counted under their own patterns (see Request.Route).
func (s *Server) Count(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[route]
}

// APICalls returns the number of REST requests (under /api/v3) since the
// last ResetCounters, including ones answered by faults or with errors.
func (s *Server) APICalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apiCalls
}

// GitRequests returns the number of git smart HTTP requests since the last
// ResetCounters.
func (s *Server) GitRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gitRequests
}

// Requests returns a copy of the request log since the last ResetCounters,
// in the order the requests were answered.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// ResetCounters clears Count, APICalls, GitRequests, Mints and Requests.
// Issued tokens, apps, installations, repositories and knobs are kept.
func (s *Server) ResetCounters() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = map[string]int{}
	s.apiCalls = 0
	s.gitRequests = 0
	s.mints = nil
	s.requests = nil
}

// serveHTTP is the single entry point: /api/v3/... is REST, everything else
// is tried as git smart HTTP.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "server closing", http.StatusServiceUnavailable)
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	if r.URL.Path == "/api/v3" || strings.HasPrefix(r.URL.Path, "/api/v3/") {
		s.serveREST(w, r)
		return
	}
	if s.serveLFS(w, r) {
		return
	}
	s.serveGit(w, r)
}

// logRequest appends to the request log.
func (s *Server) logRequest(req Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, req)
}

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if hj, ok := w.ResponseWriter.(http.Hijacker); ok {
		return hj.Hijack()
	}
	return nil, nil, http.ErrNotSupported
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// lockedWriter serialises writes from concurrent http-backend processes.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
	c  io.Closer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w == nil {
		return len(p), nil
	}
	return l.w.Write(p)
}

func (l *lockedWriter) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.c != nil {
		l.c.Close()
	}
	l.w, l.c = nil, nil
}
