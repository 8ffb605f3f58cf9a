package fakegithub

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Git smart HTTP routes, as they appear in Count and Request.Route.
const (
	RouteGitInfoRefsUpload  = "GET /{owner}/{repo}/info/refs?service=git-upload-pack"
	RouteGitInfoRefsReceive = "GET /{owner}/{repo}/info/refs?service=git-receive-pack"
	RouteGitUploadPack      = "POST /{owner}/{repo}/git-upload-pack"
	RouteGitReceivePack     = "POST /{owner}/{repo}/git-receive-pack"
)

// What GitHub's git endpoint says, in text/plain bodies that git prints
// as "remote: ...".
const (
	gitMsgBadCredentials = "Invalid username or token. Password authentication is not supported for Git operations.\n"
	gitMsgNotFound       = "Repository not found.\n"
)

// maxGitBody caps a chunked request body the fake buffers for CGI.
const maxGitBody = 256 << 20

// AddRepo creates the private repository fullName ("owner/name") as a bare
// repository Dir/repos/owner/name.git with one commit on main adding
// README.md. Author, committer and date are fixed, so the commit id is the
// same every time; the user's git configuration is never read. It fails
// when fullName is not "owner/name", when the repository exists (in any
// letter case) or when git fails.
func (s *Server) AddRepo(fullName string) error {
	owner, name, ok := strings.Cut(fullName, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") || strings.HasSuffix(name, ".git") ||
		strings.ContainsAny(fullName, "\\:\x00 ") || owner == "." || owner == ".." || name == "." || name == ".." {
		return fmt.Errorf("fakegithub: AddRepo: %q is not owner/name", fullName)
	}
	key := strings.ToLower(fullName)
	dir := filepath.Join(s.dir, "repos", owner, name+".git")

	s.mu.Lock()
	if s.repos[key] != nil {
		s.mu.Unlock()
		return fmt.Errorf("fakegithub: AddRepo: %s already exists", fullName)
	}
	// A new repository under a moved repository's old name ends the redirect (docs:
	// "Renaming a repository": creating a repository with the old name breaks it).
	delete(s.moved, key)
	// Reserve the name while git runs.
	rep := &repo{ID: s.nextRepoID, Owner: owner, Name: name, dir: dir}
	s.nextRepoID++
	s.repos[key] = rep
	s.accountLocked(owner)
	s.mu.Unlock()

	if err := s.initRepo(dir, fullName); err != nil {
		s.mu.Lock()
		delete(s.repos, key)
		s.mu.Unlock()
		return fmt.Errorf("fakegithub: AddRepo %s: %w", fullName, err)
	}
	return nil
}

// RenameRepo renames or transfers the repository oldName ("owner/name") to newName, as
// GitHub does: the repository keeps its id, and its old name keeps working (docs: "Renaming a
// repository" and "Transferring a repository": web, API and git requests to the old location
// are redirected). The REST API answers 301 for the old name (GET /repos/{owner}/{repo}/installation
// lists 301 in GitHub's REST description), and git smart HTTP answers 301 to the new path (see
// serveGit), which git follows ("warning: redirecting to") and then uses the new URL. Installations and tokens that named the repository follow it when
// its owner stays; a transfer leaves the old owner's installation. It fails when oldName does
// not exist or newName does.
func (s *Server) RenameRepo(oldName, newName string) error {
	owner, name, ok := strings.Cut(newName, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") || strings.HasSuffix(name, ".git") ||
		strings.ContainsAny(newName, "\\:\x00 ") || owner == "." || owner == ".." || name == "." || name == ".." {
		return fmt.Errorf("fakegithub: RenameRepo: %q is not owner/name", newName)
	}
	oldKey, newKey := strings.ToLower(oldName), strings.ToLower(newName)
	s.mu.Lock()
	defer s.mu.Unlock()
	rep := s.repos[oldKey]
	if rep == nil {
		return fmt.Errorf("fakegithub: RenameRepo: %s does not exist", oldName)
	}
	if s.repos[newKey] != nil {
		return fmt.Errorf("fakegithub: RenameRepo: %s already exists", newName)
	}
	dir := filepath.Join(s.dir, "repos", owner, name+".git")
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("fakegithub: RenameRepo: %w", err)
	}
	if err := os.Rename(rep.dir, dir); err != nil {
		return fmt.Errorf("fakegithub: RenameRepo: %w", err)
	}
	if strings.EqualFold(rep.Owner, owner) {
		rename := func(names []string) {
			for i, n := range names {
				if strings.EqualFold(n, rep.Name) {
					names[i] = name
				}
			}
		}
		for _, inst := range s.installs {
			if strings.EqualFold(inst.Account, owner) {
				rename(inst.Repositories)
			}
		}
		for _, t := range s.tokenOrder {
			if inst := s.installs[t.InstallationID]; inst != nil && strings.EqualFold(inst.Account, owner) {
				rename(t.Repositories)
			}
		}
	}
	delete(s.repos, oldKey)
	delete(s.moved, newKey)
	rep.Owner, rep.Name, rep.dir = owner, name, dir
	s.repos[newKey] = rep
	s.moved[oldKey] = rep
	s.accountLocked(owner)
	return nil
}

// initRepo makes the bare repository with its first commit.
func (s *Server) initRepo(dir, fullName string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	if err := s.runGit("", nil, "init", "--quiet", "--bare", "--initial-branch=main", dir); err != nil {
		return err
	}
	// Pushing over HTTP needs http.receivepack (REMOTE_USER also enables it).
	f, err := os.OpenFile(filepath.Join(dir, "config"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString("[http]\n\treceivepack = true\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	readme := fmt.Sprintf("# %s\n\nA private repository served by fakegithub.\n", fullName)
	const msg = "Initial commit\n"
	const who = "Fake GitHub <noreply@fakegithub.invalid> 1704067200 +0000"
	var stream bytes.Buffer
	fmt.Fprintf(&stream, "blob\nmark :1\ndata %d\n%s\n", len(readme), readme)
	fmt.Fprintf(&stream, "commit refs/heads/main\nmark :2\nauthor %s\ncommitter %s\ndata %d\n%s\n", who, who, len(msg), msg)
	fmt.Fprintf(&stream, "M 100644 :1 README.md\n\n")
	return s.runGit(dir, &stream, "fast-import", "--quiet")
}

// gitEnv is a clean environment for git: PATH only from the user's
// environment, no user or system configuration.
func (s *Server) gitEnv() []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + s.dir,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + os.DevNull,
		"GIT_TERMINAL_PROMPT=0",
		"LC_ALL=C",
	}
}

// runGit runs git with the clean environment; gitDir, when set, is GIT_DIR.
func (s *Server) runGit(gitDir string, stdin io.Reader, args ...string) error {
	cmd := exec.Command(s.git, args...)
	cmd.Env = s.gitEnv()
	if gitDir != "" {
		cmd.Env = append(cmd.Env, "GIT_DIR="+gitDir)
	}
	cmd.Dir = s.dir
	cmd.Stdin = stdin
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("git %s: %v: %s", args[0], err, bytes.TrimSpace(out))
	}
	return nil
}

// gitRequest is a parsed smart HTTP request.
type gitRequest struct {
	route  string
	owner  string
	repo   string // without .git
	suffix string // "info/refs", "git-upload-pack" or "git-receive-pack"
	push   bool
}

// parseGitRequest recognises /OWNER/REPO(.git)/info/refs?service=...,
// .../git-upload-pack and .../git-receive-pack; nil for anything else
// (including the dumb protocol, which GitHub does not serve).
func parseGitRequest(r *http.Request) *gitRequest {
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return nil
	}
	g := &gitRequest{owner: parts[0], repo: strings.TrimSuffix(parts[1], ".git"), suffix: parts[2]}
	if g.repo == "" {
		return nil
	}
	switch {
	case r.Method == http.MethodGet && g.suffix == "info/refs":
		switch r.URL.Query().Get("service") {
		case "git-upload-pack":
			g.route = RouteGitInfoRefsUpload
		case "git-receive-pack":
			g.route, g.push = RouteGitInfoRefsReceive, true
		default:
			return nil
		}
	case r.Method == http.MethodPost && g.suffix == "git-upload-pack":
		g.route = RouteGitUploadPack
	case r.Method == http.MethodPost && g.suffix == "git-receive-pack":
		g.route, g.push = RouteGitReceivePack, true
	default:
		return nil
	}
	return g
}

// serveGit answers git smart HTTP through `git http-backend`, after
// GitHub's checks: every repository is private, the Basic password must be
// a live installation token whose installation and repository list cover
// the repository, and pushing needs contents:write. The username must be
// x-access-token, the one GitHub documents for installation tokens (GitHub
// may be laxer; the fake is strict so a helper that sends another fails).
func (s *Server) serveGit(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	g := parseGitRequest(r)
	if g == nil {
		http.NotFound(sw, r)
		s.logRequest(Request{Method: r.Method, Route: r.Method + " " + r.URL.Path, Path: r.URL.Path, Status: sw.status})
		return
	}
	s.mu.Lock()
	s.gitRequests++
	s.counts[g.route]++
	sw.Header().Set("Date", s.nowLocked().UTC().Format(http.TimeFormat))
	s.mu.Unlock()
	entry := Request{Method: r.Method, Route: g.route, Path: r.URL.Path, Git: true}
	logged := false
	defer func() {
		if !logged {
			entry.Status = sw.status
			s.logRequest(entry)
		}
	}()

	if f := s.takeFault(g.route, true); f != nil {
		entry.Fault = true
		if f.Drop {
			// Logged before the connection is closed: the client sees the drop at once and
			// may read the log before this handler would return.
			logged = true
			s.logRequest(entry)
		}
		s.writeFault(sw, f)
		return
	}

	user, pass, hasAuth := r.BasicAuth()
	s.mu.Lock()
	var (
		tok   *IssuedToken
		inst  *Installation
		rep   = s.repos[strings.ToLower(g.owner+"/"+g.repo)]
		moved bool
	)
	if rep == nil {
		rep = s.moved[strings.ToLower(g.owner+"/"+g.repo)]
		moved = rep != nil
	}
	if hasAuth && user == "x-access-token" {
		tok, inst = s.liveTokenLocked(pass)
		if s.laggingLocked(tok) {
			tok, inst = nil, nil // not replicated yet: GitHub's git endpoint does not know it
		}
	}
	var slug string
	if inst != nil {
		slug = inst.App.Slug
	}
	covered := tok != nil && rep != nil && tokenCoversLocked(tok, inst, rep)
	var newPath string
	if moved {
		newPath = "/" + rep.Owner + "/" + rep.Name + ".git/" + g.suffix
	}
	var contents int
	if tok != nil {
		contents = permLevel(tok.Permissions["contents"])
	}
	s.mu.Unlock()

	if moved {
		// The old name of a renamed or transferred repository redirects to the new one before
		// any credential check. GitHub documents that git clone, fetch and push of the old
		// location keep working (docs: "Renaming a repository", "Transferring a repository");
		// git takes a new base URL only from a redirect of its first request (http.c
		// http_request_reauth), so a redirect answered only after authentication breaks git
		// ("RPC failed; HTTP 307 ... expected flush after ref listing", go-gitea/gitea#28460).
		// How GitHub answers exactly is not documented; this is what makes git work.
		loc := newPath
		if r.URL.RawQuery != "" {
			loc += "?" + r.URL.RawQuery
		}
		sw.Header().Set("Location", loc)
		sw.WriteHeader(http.StatusMovedPermanently)
		return
	}

	switch {
	case !hasAuth:
		gitError(sw, http.StatusUnauthorized, "")
		return
	case tok == nil:
		gitError(sw, http.StatusUnauthorized, gitMsgBadCredentials)
		return
	case !covered:
		// GitHub does not reveal private repositories a token cannot reach.
		gitError(sw, http.StatusNotFound, gitMsgNotFound)
		return
	case contents < 1 || (g.push && contents < 2):
		// GitHub's wording for an app token without the needed contents
		// permission (e.g. celestiaorg/celestia-specs#210 for the bot form).
		gitError(sw, http.StatusForbidden, fmt.Sprintf("Permission to %s.git denied to %s[bot].\n", rep.fullName(), slug))
		return
	}
	s.runHTTPBackend(sw, r, rep, g, slug+"[bot]")
}

// gitError answers like GitHub's git endpoint; 401s carry the Basic
// challenge that makes git ask its credential helpers.
func gitError(w http.ResponseWriter, status int, msg string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg)
}

// runHTTPBackend hands the request to `git http-backend` as CGI, with the
// path rewritten to the repository's real letter case and without the
// Authorization header (the token never reaches the child's environment).
func (s *Server) runHTTPBackend(w http.ResponseWriter, r *http.Request, rep *repo, g *gitRequest, remoteUser string) {
	r2 := r.Clone(r.Context())
	r2.Header.Del("Authorization")
	r2.URL.Path = "/" + rep.Owner + "/" + rep.Name + ".git/" + g.suffix
	r2.URL.RawPath = ""
	r2.RequestURI = r2.URL.RequestURI()
	if r2.ContentLength < 0 || len(r2.TransferEncoding) > 0 {
		// net/http/cgi refuses chunked bodies, which git sends for large
		// requests; buffer them.
		body, err := io.ReadAll(io.LimitReader(r.Body, maxGitBody+1))
		if err != nil {
			return
		}
		if len(body) > maxGitBody {
			gitError(w, http.StatusRequestEntityTooLarge, "request too large for fakegithub\n")
			return
		}
		r2.Body = io.NopCloser(bytes.NewReader(body))
		r2.ContentLength = int64(len(body))
		r2.TransferEncoding = nil
	}
	h := &cgi.Handler{
		Path: s.git,
		Args: []string{"http-backend"},
		Dir:  s.dir,
		Env: append(s.gitEnv(),
			"GIT_PROJECT_ROOT="+filepath.Join(s.dir, "repos"),
			"GIT_HTTP_EXPORT_ALL=1",
			"REMOTE_USER="+remoteUser,
			"AUTH_TYPE=Basic",
		),
		Stderr: s.backend,
	}
	h.ServeHTTP(w, r2)
}
