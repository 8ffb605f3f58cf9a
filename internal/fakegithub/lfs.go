package fakegithub

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Git LFS routes, as they appear in Count and Request.Route.
//
// The batch endpoint is where git-lfs finds it for a remote https://HOST/OWNER/REPO(.git):
// HOST/OWNER/REPO.git/info/lfs/objects/batch (git-lfs docs/api/batch.md, "Git LFS Batch API",
// https://github.com/git-lfs/git-lfs/blob/main/docs/api/batch.md; docs/api/server-discovery.md).
// GitHub does not document its own answers beyond that spec; the messages below reuse those of
// its git endpoint (git.go). The transfer routes are the fake's own: GitHub hands out hrefs
// on a separate storage host with a short-lived Authorization header in the action (the basic
// transfer adapter, git-lfs docs/api/basic-transfers.md); the fake keeps them on its own host
// under /_lfs/ with the same shape, so that the repository's token never travels to them.
const (
	RouteLFSBatch    = "POST /{owner}/{repo}/info/lfs/objects/batch"
	RouteLFSDownload = "GET /_lfs/{owner}/{repo}/{oid}"
	RouteLFSUpload   = "PUT /_lfs/{owner}/{repo}/{oid}"
	RouteLFSVerify   = "POST /_lfs/{owner}/{repo}/verify"
)

// lfsMediaType is the content type of batch requests and answers (batch.md).
const lfsMediaType = "application/vnd.git-lfs+json"

// lfsActionLifetime is how long an action's href and header stay valid; batch.md's expires_in.
const lfsActionLifetime = time.Hour

// maxLFSObject caps an uploaded object (the fake stores it on disk).
const maxLFSObject = 64 << 20

// lfsState holds the short-lived transfer grants handed out in batch answers. Its zero value is
// ready to use; it has its own lock so that transfers do not contend with the REST routes.
type lfsState struct {
	mu     sync.Mutex
	grants map[string]lfsGrant // by the value of the action's Authorization header
}

// lfsGrant allows one operation on one object of one repository until expires.
type lfsGrant struct {
	repo    string // lower-case owner/name
	oid     string
	upload  bool
	expires time.Time
}

// LFSObject returns the content of the LFS object oid stored for repository fullName, and
// whether there is one.
func (s *Server) LFSObject(fullName, oid string) ([]byte, bool) {
	if !validOID(oid) {
		return nil, false
	}
	b, err := os.ReadFile(s.lfsPath(strings.ToLower(fullName), oid))
	return b, err == nil
}

func (s *Server) lfsPath(repoKey, oid string) string {
	return filepath.Join(s.dir, "lfs", filepath.FromSlash(repoKey), oid)
}

// validOID accepts a SHA-256 in lower-case hex, the only hash_algo git-lfs uses (batch.md).
func validOID(oid string) bool {
	if len(oid) != 64 {
		return false
	}
	for _, c := range oid {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// serveLFS answers the Git LFS batch API and the object transfers it hands out; it returns
// false, having written nothing, for a request that is neither.
func (s *Server) serveLFS(w http.ResponseWriter, r *http.Request) bool {
	path := strings.TrimPrefix(r.URL.Path, "/")
	if rest, ok := strings.CutPrefix(path, "_lfs/"); ok {
		s.serveLFSTransfer(w, r, rest)
		return true
	}
	parts := strings.SplitN(path, "/", 3)
	if len(parts) != 3 || !strings.HasSuffix(parts[1], ".git") || parts[2] != "info/lfs/objects/batch" {
		return false
	}
	s.serveLFSBatch(w, r, parts[0], strings.TrimSuffix(parts[1], ".git"))
	return true
}

// lfsError answers a batch or transfer request with batch.md's error body: a message and a
// documentation_url, in the LFS media type. A 401 carries LFS-Authenticate, which makes git-lfs
// ask git's credential helpers and retry (batch.md, "Response Errors").
func lfsError(w http.ResponseWriter, status int, msg string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("LFS-Authenticate", `Basic realm="GitHub"`)
	}
	w.Header().Set("Content-Type", lfsMediaType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{
		"message":           msg,
		"documentation_url": "https://docs.github.com/repositories/working-with-files/managing-large-files",
	})
}

type lfsBatchRequest struct {
	Operation string   `json:"operation"`
	Transfers []string `json:"transfers"`
	Objects   []struct {
		OID  string `json:"oid"`
		Size int64  `json:"size"`
	} `json:"objects"`
	HashAlgo string `json:"hash_algo"`
}

type lfsAction struct {
	Href      string            `json:"href"`
	Header    map[string]string `json:"header,omitempty"`
	ExpiresIn int               `json:"expires_in,omitempty"`
}

type lfsObject struct {
	OID           string               `json:"oid"`
	Size          int64                `json:"size"`
	Authenticated bool                 `json:"authenticated,omitempty"`
	Actions       map[string]lfsAction `json:"actions,omitempty"`
	Error         *lfsObjectError      `json:"error,omitempty"`
}

type lfsObjectError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// serveLFSBatch answers POST OWNER/REPO.git/info/lfs/objects/batch after GitHub's token checks,
// the same as for git's own requests: Basic auth with x-access-token and a live installation
// token that covers the repository (else 401, or 404 so that a private repository is not
// revealed); download needs contents:read, upload contents:write (else 403: batch.md says 403
// means read but not write access).
func (s *Server) serveLFSBatch(w http.ResponseWriter, r *http.Request, owner, name string) {
	sw := &statusWriter{ResponseWriter: w}
	s.mu.Lock()
	s.gitRequests++
	s.counts[RouteLFSBatch]++
	sw.Header().Set("Date", s.nowLocked().UTC().Format(http.TimeFormat))
	s.mu.Unlock()
	entry := Request{Method: r.Method, Route: RouteLFSBatch, Path: r.URL.Path, Git: true}
	defer func() {
		entry.Status = sw.status
		s.logRequest(entry)
	}()
	if f := s.takeFault(RouteLFSBatch, true); f != nil {
		entry.Fault = true
		s.writeFault(sw, f)
		return
	}
	if r.Method != http.MethodPost {
		lfsError(sw, http.StatusMethodNotAllowed, "Method not allowed")
		return
	}
	if !strings.Contains(r.Header.Get("Accept"), lfsMediaType) {
		lfsError(sw, http.StatusNotAcceptable, "Accept header must be "+lfsMediaType)
		return
	}

	user, pass, hasAuth := r.BasicAuth()
	s.mu.Lock()
	var (
		tok  *IssuedToken
		inst *Installation
		rep  = s.repos[strings.ToLower(owner+"/"+name)]
	)
	if hasAuth && user == "x-access-token" {
		tok, inst = s.liveTokenLocked(pass)
	}
	covered := tok != nil && rep != nil && tokenCoversLocked(tok, inst, rep)
	var contents int
	var slug string
	if tok != nil {
		contents = permLevel(tok.Permissions["contents"])
		slug = inst.App.Slug
	}
	s.mu.Unlock()

	switch {
	case !hasAuth:
		lfsError(sw, http.StatusUnauthorized, "Credentials needed")
		return
	case tok == nil:
		lfsError(sw, http.StatusUnauthorized, strings.TrimSpace(gitMsgBadCredentials))
		return
	case !covered:
		lfsError(sw, http.StatusNotFound, strings.TrimSpace(gitMsgNotFound))
		return
	}

	var req lfsBatchRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		lfsError(sw, http.StatusBadRequest, "Invalid JSON")
		return
	}
	upload := req.Operation == "upload"
	switch {
	case req.Operation != "download" && !upload:
		lfsError(sw, http.StatusUnprocessableEntity, fmt.Sprintf("Unknown operation %q", req.Operation))
		return
	case len(req.Transfers) > 0 && !containsFold(req.Transfers, "basic"):
		lfsError(sw, http.StatusUnprocessableEntity, "Only the basic transfer adapter is supported")
		return
	case req.HashAlgo != "" && req.HashAlgo != "sha256":
		lfsError(sw, http.StatusConflict, "Only sha256 is supported")
		return
	case contents < 1 || (upload && contents < 2):
		lfsError(sw, http.StatusForbidden, fmt.Sprintf("Permission to %s.git denied to %s[bot].", rep.fullName(), slug))
		return
	}

	repoKey := strings.ToLower(rep.fullName())
	base := s.URL + "/_lfs/" + rep.Owner + "/" + rep.Name + "/"
	resp := struct {
		Transfer string      `json:"transfer"`
		Objects  []lfsObject `json:"objects"`
		HashAlgo string      `json:"hash_algo"`
	}{Transfer: "basic", Objects: []lfsObject{}, HashAlgo: "sha256"}
	for _, o := range req.Objects {
		obj := lfsObject{OID: o.OID, Size: o.Size}
		fi, statErr := os.Stat(s.lfsPath(repoKey, o.OID))
		have := statErr == nil && fi.Size() == o.Size
		switch {
		case !validOID(o.OID) || o.Size < 0:
			obj.Error = &lfsObjectError{Code: http.StatusUnprocessableEntity, Message: "Invalid object"}
		case !upload && !have:
			obj.Error = &lfsObjectError{Code: http.StatusNotFound, Message: "Object does not exist"}
		case !upload:
			obj.Authenticated = true
			obj.Actions = map[string]lfsAction{"download": s.lfsGrant(base+o.OID, repoKey, o.OID, false)}
		case have:
			// The server has it already: no actions, the client skips it (batch.md).
		case o.Size > maxLFSObject:
			obj.Error = &lfsObjectError{Code: http.StatusUnprocessableEntity, Message: "Object too large for fakegithub"}
		default:
			obj.Authenticated = true
			obj.Actions = map[string]lfsAction{
				"upload": s.lfsGrant(base+o.OID, repoKey, o.OID, true),
				"verify": s.lfsGrant(base+"verify", repoKey, o.OID, true),
			}
		}
		resp.Objects = append(resp.Objects, obj)
	}
	sw.Header().Set("Content-Type", lfsMediaType)
	sw.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(sw).Encode(resp)
}

// lfsGrant makes an action for href whose Authorization header allows exactly this operation on
// this object, for lfsActionLifetime.
func (s *Server) lfsGrant(href, repoKey, oid string, upload bool) lfsAction {
	auth := "RemoteAuth " + randomHex(20)
	s.lfs.mu.Lock()
	if s.lfs.grants == nil {
		s.lfs.grants = map[string]lfsGrant{}
	}
	s.lfs.grants[auth] = lfsGrant{repo: repoKey, oid: oid, upload: upload, expires: s.now().Add(lfsActionLifetime)}
	s.lfs.mu.Unlock()
	return lfsAction{Href: href, Header: map[string]string{"Authorization": auth}, ExpiresIn: int(lfsActionLifetime / time.Second)}
}

// checkGrant reports whether auth allows the operation on repoKey's oid now.
func (s *Server) checkGrant(auth, repoKey, oid string, upload bool) bool {
	now := s.now()
	s.lfs.mu.Lock()
	defer s.lfs.mu.Unlock()
	g, ok := s.lfs.grants[auth]
	return ok && g.repo == repoKey && g.oid == oid && g.upload == upload && now.Before(g.expires)
}

// serveLFSTransfer answers the basic transfer adapter's requests (basic-transfers.md): GET
// downloads the object, PUT uploads it (its SHA-256 must be the oid and its length the size
// promised), POST verify confirms an upload. Each needs the Authorization header of the action
// the batch answer gave for that object.
func (s *Server) serveLFSTransfer(w http.ResponseWriter, r *http.Request, rest string) {
	sw := &statusWriter{ResponseWriter: w}
	parts := strings.Split(rest, "/")
	route := r.Method + " /_lfs/" + rest
	var owner, name, oid string
	if len(parts) == 3 {
		owner, name, oid = parts[0], parts[1], parts[2]
		switch {
		case r.Method == http.MethodGet && oid != "verify":
			route = RouteLFSDownload
		case r.Method == http.MethodPut && oid != "verify":
			route = RouteLFSUpload
		case r.Method == http.MethodPost && oid == "verify":
			route = RouteLFSVerify
		}
	}
	s.mu.Lock()
	s.gitRequests++
	s.counts[route]++
	s.mu.Unlock()
	entry := Request{Method: r.Method, Route: route, Path: r.URL.Path, Git: true}
	defer func() {
		entry.Status = sw.status
		s.logRequest(entry)
	}()
	if route != RouteLFSDownload && route != RouteLFSUpload && route != RouteLFSVerify {
		lfsError(sw, http.StatusNotFound, "Not Found")
		return
	}
	if f := s.takeFault(route, true); f != nil {
		entry.Fault = true
		s.writeFault(sw, f)
		return
	}
	repoKey := strings.ToLower(owner + "/" + name)
	auth := r.Header.Get("Authorization")
	switch route {
	case RouteLFSDownload:
		if !validOID(oid) || !s.checkGrant(auth, repoKey, oid, false) {
			lfsError(sw, http.StatusUnauthorized, strings.TrimSpace(gitMsgBadCredentials))
			return
		}
		f, err := os.Open(s.lfsPath(repoKey, oid))
		if err != nil {
			lfsError(sw, http.StatusNotFound, "Object does not exist")
			return
		}
		defer f.Close()
		sw.Header().Set("Content-Type", "application/octet-stream")
		sw.WriteHeader(http.StatusOK)
		_, _ = io.Copy(sw, f)
	case RouteLFSUpload:
		if !validOID(oid) || !s.checkGrant(auth, repoKey, oid, true) {
			lfsError(sw, http.StatusUnauthorized, strings.TrimSpace(gitMsgBadCredentials))
			return
		}
		if err := s.storeLFSObject(repoKey, oid, r.Body, r.ContentLength); err != nil {
			lfsError(sw, http.StatusUnprocessableEntity, err.Error())
			return
		}
		sw.WriteHeader(http.StatusOK)
	case RouteLFSVerify:
		var v struct {
			OID  string `json:"oid"`
			Size int64  `json:"size"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&v); err != nil || !validOID(v.OID) {
			lfsError(sw, http.StatusUnprocessableEntity, "Invalid verify request")
			return
		}
		if !s.checkGrant(auth, repoKey, v.OID, true) {
			lfsError(sw, http.StatusUnauthorized, strings.TrimSpace(gitMsgBadCredentials))
			return
		}
		fi, err := os.Stat(s.lfsPath(repoKey, v.OID))
		if err != nil || fi.Size() != v.Size {
			lfsError(sw, http.StatusNotFound, "Object does not exist")
			return
		}
		sw.WriteHeader(http.StatusOK)
	}
}

// storeLFSObject writes an uploaded object after checking that its content hashes to oid; a
// partial or wrong upload leaves nothing behind.
func (s *Server) storeLFSObject(repoKey, oid string, body io.Reader, length int64) error {
	if length > maxLFSObject {
		return fmt.Errorf("object too large for fakegithub")
	}
	dir := filepath.Dir(s.lfsPath(repoKey, oid))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(body, maxLFSObject+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		return err
	case n > maxLFSObject:
		return fmt.Errorf("object too large for fakegithub")
	case length >= 0 && n != length:
		return fmt.Errorf("object is %d bytes, not the %d promised", n, length)
	case hex.EncodeToString(h.Sum(nil)) != oid:
		return fmt.Errorf("object content does not match its oid")
	}
	return os.Rename(tmp.Name(), s.lfsPath(repoKey, oid))
}
