package fakegithub

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Messages GitHub answers on the REST API. Sources for the 422s:
// "The permissions requested are not granted to this installation." is
// quoted in peter-murray/workflow-application-token-action#48 and
// elastic/apm-agent-go#1662; the repository message is GitHub's wording for
// a name or id the installation cannot reach.
const (
	msgNotFound           = "Not Found"
	msgBadCredentials     = "Bad credentials"
	msgRequiresAuth       = "Requires authentication"
	msgParseJSON          = "Problems parsing JSON"
	msgRepoNotAccessible  = "There is at least one repository that does not exist or is not accessible to the parent installation."
	msgPermsNotGranted    = "The permissions requested are not granted to this installation."
	msgNotAccessible      = "Resource not accessible by integration"
	msgMovedPermanently   = "Moved Permanently"
	msgUserAgentForbidden = "Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.\n"
	docRest               = "https://docs.github.com/rest"
	docApps               = "https://docs.github.com/rest/apps/apps"
	docInstallations      = "https://docs.github.com/rest/apps/installations"
	defaultAPIVersion     = "2022-11-28"
	rateLimit             = 5000
)

// route is one REST endpoint.
type route struct {
	key     string // "GET /app/installations/{id}"
	method  string
	segs    []string
	doc     string // documentation_url for its errors
	handler func(s *Server, w http.ResponseWriter, r *http.Request, rt *route, p map[string]string)
}

var restRoutes = []*route{
	newRoute("GET /app", docApps+"#get-the-authenticated-app", (*Server).handleGetApp),
	newRoute("GET /app/installations", docApps+"#list-installations-for-the-authenticated-app", (*Server).handleListInstallations),
	newRoute("GET /app/installations/{id}", docApps+"#get-an-installation-for-the-authenticated-app", (*Server).handleGetInstallation),
	newRoute("POST /app/installations/{id}/access_tokens", docApps+"#create-an-installation-access-token-for-an-app", (*Server).handleMint),
	newRoute("GET /repos/{owner}/{repo}/installation", docApps+"#get-a-repository-installation-for-the-authenticated-app", (*Server).handleRepoInstallation),
	// Where GitHub's 301 for a moved repository's installation points: GitHub serves
	// /repositories/{id}/... as the id form of /repos/{owner}/{repo}/... (not listed on its own
	// in the REST description).
	newRoute("GET /repositories/{id}/installation", docApps+"#get-a-repository-installation-for-the-authenticated-app", (*Server).handleRepoIDInstallation),
	newRoute("GET /orgs/{org}/installation", docApps+"#get-an-organization-installation-for-the-authenticated-app", (*Server).handleOrgInstallation),
	newRoute("GET /users/{username}", docUsers, (*Server).handleGetUser),
	newRoute("GET /users/{username}/installation", docApps+"#get-a-user-installation-for-the-authenticated-app", (*Server).handleUserInstallation),
	newRoute("DELETE /installation/token", docInstallations+"#revoke-an-installation-access-token", (*Server).handleRevoke),
	newRoute("GET /installation/repositories", docInstallations+"#list-repositories-accessible-to-the-app-installation", (*Server).handleInstallationRepos),
}

func newRoute(key, doc string, h func(s *Server, w http.ResponseWriter, r *http.Request, rt *route, p map[string]string)) *route {
	method, path, _ := strings.Cut(key, " ")
	return &route{key: key, method: method, segs: strings.Split(strings.TrimPrefix(path, "/"), "/"), doc: doc, handler: h}
}

// matchRoute finds the route for method and path (path without /api/v3).
// A path that exists for another method does not match: GitHub answers 404
// for a wrong method too.
func matchRoute(method, path string) (*route, map[string]string) {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for _, rt := range restRoutes {
		if rt.method != method || len(rt.segs) != len(segs) {
			continue
		}
		p := map[string]string{}
		ok := true
		for i, want := range rt.segs {
			if strings.HasPrefix(want, "{") {
				if segs[i] == "" {
					ok = false
					break
				}
				p[strings.Trim(want, "{}")] = segs[i]
			} else if want != segs[i] {
				ok = false
				break
			}
		}
		if ok {
			return rt, p
		}
	}
	return nil, nil
}

// serveREST answers a request under /api/v3.
func (s *Server) serveREST(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	apiPath := strings.TrimPrefix(r.URL.Path, "/api/v3")
	rt, params := matchRoute(r.Method, apiPath)
	name := r.Method + " " + apiPath
	if rt != nil {
		name = rt.key
	}

	s.mu.Lock()
	s.apiCalls++
	s.counts[name]++
	latency := s.latency
	s.mu.Unlock()
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
		case <-s.done:
		}
		t.Stop()
	}

	s.setCommonHeaders(sw, r)
	entry := Request{Method: r.Method, Route: name, Path: r.URL.Path}
	logged := false
	defer func() {
		if !logged {
			entry.Status = sw.status
			s.logRequest(entry)
		}
	}()

	if f := s.takeFault(name, false); f != nil {
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
	if r.UserAgent() == "" {
		// GitHub rejects API requests without a User-Agent.
		sw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		sw.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(sw, msgUserAgentForbidden)
		return
	}
	if rt == nil {
		writeError(sw, http.StatusNotFound, msgNotFound, docRest)
		return
	}
	rt.handler(s, sw, r, rt, params)
}

// setCommonHeaders sets what GitHub sends on every API answer: the Date by
// GitHub's clock, rate-limit counters, a request id and the API version.
func (s *Server) setCommonHeaders(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	now := s.nowLocked()
	if !now.Before(s.rateReset) {
		s.rateReset = now.Add(time.Hour).Truncate(time.Second)
		s.rateUsed = 0
	}
	s.rateUsed++
	used, reset := s.rateUsed, s.rateReset
	s.mu.Unlock()

	h := w.Header()
	h.Set("Date", now.UTC().Format(http.TimeFormat))
	h.Set("Server", "GitHub.com")
	h.Set("x-ratelimit-limit", strconv.Itoa(rateLimit))
	h.Set("x-ratelimit-remaining", strconv.Itoa(max(0, rateLimit-used)))
	h.Set("x-ratelimit-reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("x-ratelimit-used", strconv.Itoa(used))
	h.Set("x-ratelimit-resource", "core")
	h.Set("x-github-request-id", requestID())
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	version := r.Header.Get("X-GitHub-Api-Version")
	if version == "" {
		version = defaultAPIVersion
	}
	h.Set("X-GitHub-Api-Version", version)
}

func requestID() string {
	return strings.ToUpper(fmt.Sprintf("%s:%s:%s:%s:%s", randomHex(2), randomHex(2), randomHex(3), randomHex(3), randomHex(4)))
}

// errorJSON is GitHub's error body.
func errorJSON(status int, message, doc string) string {
	b, _ := json.Marshal(map[string]string{
		"message":           message,
		"documentation_url": doc,
		"status":            strconv.Itoa(status),
	})
	return string(b)
}

func writeError(w http.ResponseWriter, status int, message, doc string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, errorJSON(status, message, doc))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "Server Error", docRest)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// appAuth verifies the app JWT and answers 401 itself when it fails.
func (s *Server) appAuth(w http.ResponseWriter, r *http.Request) *App {
	app, msg := s.verifyAppJWT(r.Header.Get("Authorization"))
	if app == nil {
		writeError(w, http.StatusUnauthorized, msg, docRest)
	}
	return app
}

// installationToken extracts an installation token from "token X" or
// "Bearer X"; ok is false when there is no Authorization header at all.
func installationToken(r *http.Request) (tok string, ok bool) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if h == "" {
		return "", false
	}
	scheme, rest, _ := strings.Cut(h, " ")
	if strings.EqualFold(scheme, "token") || strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(rest), true
	}
	return "", true
}

func (s *Server) handleGetApp(w http.ResponseWriter, r *http.Request, rt *route, _ map[string]string) {
	app := s.appAuth(w, r)
	if app == nil {
		return
	}
	s.mu.Lock()
	insts := s.installationsOfLocked(app)
	perms := map[string]string{}
	for _, inst := range insts {
		for k, v := range inst.Permissions {
			if permLevel(v) > permLevel(perms[k]) {
				perms[k] = v
			}
		}
	}
	body := map[string]any{
		"id":                  app.ID,
		"slug":                app.Slug,
		"client_id":           app.ClientID,
		"node_id":             fmt.Sprintf("A_fake%d", app.ID),
		"name":                app.Slug,
		"description":         "",
		"external_url":        s.URL + "/apps/" + app.Slug,
		"html_url":            s.URL + "/apps/" + app.Slug,
		"owner":               map[string]any{"login": "fakegithub", "id": 1, "type": "Organization"},
		"created_at":          "2024-01-01T00:00:00Z",
		"updated_at":          "2024-01-01T00:00:00Z",
		"permissions":         perms,
		"events":              []string{},
		"installations_count": len(insts),
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) handleListInstallations(w http.ResponseWriter, r *http.Request, rt *route, _ map[string]string) {
	app := s.appAuth(w, r)
	if app == nil {
		return
	}
	perPage, page := pageParams(r.URL.Query())
	s.mu.Lock()
	all := s.installationsOfLocked(app)
	lo := min((page-1)*perPage, len(all))
	hi := min(lo+perPage, len(all))
	out := make([]any, 0, hi-lo)
	for _, inst := range all[lo:hi] {
		out = append(out, s.installationJSONLocked(inst))
	}
	s.mu.Unlock()
	if link := linkHeader(s.APIURL+"/app/installations", perPage, page, len(all)); link != "" {
		w.Header().Set("Link", link)
	}
	writeJSON(w, http.StatusOK, out)
}

// answerInstallation answers the app's installation that find returns (called with s.mu held),
// or 404 when there is none, as GitHub does for every "get an installation" route.
func (s *Server) answerInstallation(w http.ResponseWriter, r *http.Request, rt *route, find func(app *App) *Installation) {
	app := s.appAuth(w, r)
	if app == nil {
		return
	}
	s.mu.Lock()
	var body any
	if inst := find(app); inst != nil {
		body = s.installationJSONLocked(inst)
	}
	s.mu.Unlock()
	if body == nil {
		writeError(w, http.StatusNotFound, msgNotFound, rt.doc)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) handleGetInstallation(w http.ResponseWriter, r *http.Request, rt *route, p map[string]string) {
	id, _ := strconv.ParseInt(p["id"], 10, 64)
	s.answerInstallation(w, r, rt, func(app *App) *Installation {
		if inst := s.installs[id]; inst != nil && inst.App == app {
			return inst
		}
		return nil
	})
}

func (s *Server) handleRepoInstallation(w http.ResponseWriter, r *http.Request, rt *route, p map[string]string) {
	key := strings.ToLower(p["owner"] + "/" + p["repo"])
	s.mu.Lock()
	var movedID int64
	if mv := s.moved[key]; mv != nil && s.repos[key] == nil {
		movedID = mv.ID
	}
	s.mu.Unlock()
	if movedID != 0 {
		// A renamed or transferred repository: GitHub's REST description lists 301
		// (moved_permanently, a basic-error body with url) for this endpoint.
		if s.appAuth(w, r) == nil {
			return
		}
		loc := fmt.Sprintf("%s/repositories/%d/installation", s.APIURL, movedID)
		w.Header().Set("Location", loc)
		writeJSON(w, http.StatusMovedPermanently, map[string]string{
			"message": msgMovedPermanently, "url": loc, "documentation_url": rt.doc,
		})
		return
	}
	s.answerInstallation(w, r, rt, func(app *App) *Installation {
		rep := s.repos[strings.ToLower(p["owner"]+"/"+p["repo"])]
		if rep == nil {
			return nil
		}
		if inst := s.installationOnLocked(app, rep.Owner); inst != nil && coversLocked(inst, rep) {
			return inst
		}
		return nil
	})
}

func (s *Server) handleRepoIDInstallation(w http.ResponseWriter, r *http.Request, rt *route, p map[string]string) {
	id, _ := strconv.ParseInt(p["id"], 10, 64)
	s.answerInstallation(w, r, rt, func(app *App) *Installation {
		rep := s.repoByIDLocked(id)
		if rep == nil {
			return nil
		}
		if inst := s.installationOnLocked(app, rep.Owner); inst != nil && coversLocked(inst, rep) {
			return inst
		}
		return nil
	})
}

func (s *Server) handleOrgInstallation(w http.ResponseWriter, r *http.Request, rt *route, p map[string]string) {
	s.answerInstallation(w, r, rt, func(app *App) *Installation {
		if acct := s.accounts[strings.ToLower(p["org"])]; acct != nil && acct.Type == "Organization" {
			return s.installationOnLocked(app, acct.Login)
		}
		return nil
	})
}

func (s *Server) handleUserInstallation(w http.ResponseWriter, r *http.Request, rt *route, p map[string]string) {
	s.answerInstallation(w, r, rt, func(app *App) *Installation {
		return s.installationOnLocked(app, p["username"])
	})
}

// mintRequest is the body of POST /app/installations/{id}/access_tokens.
type mintRequest struct {
	Repositories  []string          `json:"repositories"`
	RepositoryIDs []int64           `json:"repository_ids"`
	Permissions   map[string]string `json:"permissions"`
}

func (s *Server) handleMint(w http.ResponseWriter, r *http.Request, rt *route, p map[string]string) {
	id, _ := strconv.ParseInt(p["id"], 10, 64)
	rec := Mint{InstallationID: id}
	// answer records the mint and writes v: a string is an error message.
	answer := func(status int, v any) {
		s.mu.Lock()
		rec.Status = status
		s.mints = append(s.mints, rec)
		s.mu.Unlock()
		switch msg, isMsg := v.(string); {
		case isMsg && status == http.StatusUnauthorized:
			writeError(w, status, msg, docRest)
		case isMsg:
			writeError(w, status, msg, rt.doc)
		default:
			writeJSON(w, status, v)
		}
	}

	// Read the body first so that Mints shows what was asked for even when
	// authentication fails.
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var req mintRequest
	parseErr := false
	if len(bytes.TrimSpace(raw)) > 0 {
		parseErr = json.Unmarshal(raw, &req) != nil
	}
	if len(req.Repositories) > 0 {
		rec.Repositories = slices.Clone(req.Repositories)
	}
	if len(req.Permissions) > 0 {
		rec.Permissions = maps.Clone(req.Permissions)
	}

	app, msg := s.verifyAppJWT(r.Header.Get("Authorization"))
	if app == nil {
		s.recordIDs(&rec, req.RepositoryIDs)
		answer(http.StatusUnauthorized, msg)
		return
	}
	if parseErr {
		answer(http.StatusBadRequest, msgParseJSON)
		return
	}

	s.mu.Lock()
	s.recordIDsLocked(&rec, req.RepositoryIDs)
	inst := s.installs[id]
	if inst == nil || inst.App != app {
		s.mu.Unlock()
		answer(http.StatusNotFound, msgNotFound)
		return
	}

	// Repositories: every name and id must be a repository the installation reaches.
	var names []string
	for _, n := range req.Repositories {
		rep := s.repos[strings.ToLower(inst.Account+"/"+n)]
		if rep == nil || strings.Contains(n, "/") || !coversLocked(inst, rep) {
			s.mu.Unlock()
			answer(http.StatusUnprocessableEntity, msgRepoNotAccessible)
			return
		}
		if !containsFold(names, rep.Name) {
			names = append(names, rep.Name)
		}
	}
	for _, rid := range req.RepositoryIDs {
		rep := s.repoByIDLocked(rid)
		if rep == nil || !coversLocked(inst, rep) {
			s.mu.Unlock()
			answer(http.StatusUnprocessableEntity, msgRepoNotAccessible)
			return
		}
		if !containsFold(names, rep.Name) {
			names = append(names, rep.Name)
		}
	}
	if names == nil && inst.Repositories != nil {
		names = slices.Clone(inst.Repositories)
	}

	// Permissions: each at most what the installation has (read < write < admin).
	perms := maps.Clone(inst.Permissions)
	if len(req.Permissions) > 0 {
		for k, v := range req.Permissions {
			want, have := permLevel(v), permLevel(inst.Permissions[k])
			if want == 0 || have == 0 || want > have {
				s.mu.Unlock()
				answer(http.StatusUnprocessableEntity, msgPermsNotGranted)
				return
			}
		}
		perms = maps.Clone(req.Permissions)
	}

	t := s.issueTokenLocked(inst.ID, names, perms)
	body := map[string]any{
		"token":                t.Token,
		"expires_at":           t.ExpiresAt.Format(time.RFC3339),
		"permissions":          perms,
		"repository_selection": "all",
	}
	if names != nil {
		body["repository_selection"] = "selected"
		repos := []any{}
		for _, rep := range s.reposOfLocked(inst, names) {
			repos = append(repos, s.repoJSONLocked(rep))
		}
		body["repositories"] = repos
	}
	s.mu.Unlock()
	answer(http.StatusCreated, body)
}

// recordIDs adds requested repository ids to a Mint record as names.
func (s *Server) recordIDs(rec *Mint, ids []int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recordIDsLocked(rec, ids)
}

func (s *Server) recordIDsLocked(rec *Mint, ids []int64) {
	for _, id := range ids {
		if rep := s.repoByIDLocked(id); rep != nil {
			rec.Repositories = append(rec.Repositories, rep.Name)
		} else {
			rec.Repositories = append(rec.Repositories, "#"+strconv.FormatInt(id, 10))
		}
	}
}

func (s *Server) repoByIDLocked(id int64) *repo {
	for _, rep := range s.repos {
		if rep.ID == id {
			return rep
		}
	}
	return nil
}

func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request, rt *route, _ map[string]string) {
	tok, present := installationToken(r)
	if !present {
		writeError(w, http.StatusUnauthorized, msgRequiresAuth, rt.doc)
		return
	}
	s.mu.Lock()
	t, _ := s.liveTokenLocked(tok)
	if s.laggingLocked(t) {
		t = nil // GitHub cannot find it yet
	}
	if t != nil {
		t.Revoked = true
	}
	s.mu.Unlock()
	if t == nil {
		writeError(w, http.StatusUnauthorized, msgBadCredentials, docRest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleInstallationRepos(w http.ResponseWriter, r *http.Request, rt *route, _ map[string]string) {
	tok, present := installationToken(r)
	if !present {
		writeError(w, http.StatusUnauthorized, msgRequiresAuth, rt.doc)
		return
	}
	perPage, page := pageParams(r.URL.Query())
	s.mu.Lock()
	t, inst := s.liveTokenLocked(tok)
	if t == nil {
		s.mu.Unlock()
		writeError(w, http.StatusUnauthorized, msgBadCredentials, docRest)
		return
	}
	if s.laggingLocked(t) {
		scoped := t.Repositories != nil
		s.mu.Unlock()
		if scoped {
			// "403 - scoped installation token, permissions aren't replicated yet"
			// (octokit/auth-app.js#589); GitHub's body for it is not documented, so the fake
			// uses its usual wording for an installation token that may not do something.
			writeError(w, http.StatusForbidden, msgNotAccessible, rt.doc)
		} else {
			writeError(w, http.StatusUnauthorized, msgBadCredentials, docRest)
		}
		return
	}
	all := s.reposOfLocked(inst, t.Repositories)
	lo := min((page-1)*perPage, len(all))
	hi := min(lo+perPage, len(all))
	repos := []any{}
	for _, rep := range all[lo:hi] {
		repos = append(repos, s.repoJSONLocked(rep))
	}
	sel := "all"
	if t.Repositories != nil || inst.Repositories != nil {
		sel = "selected"
	}
	s.mu.Unlock()
	if link := linkHeader(s.APIURL+"/installation/repositories", perPage, page, len(all)); link != "" {
		w.Header().Set("Link", link)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"total_count":          len(all),
		"repository_selection": sel,
		"repositories":         repos,
	})
}

// permLevel orders permission levels: read < write < admin; 0 for anything else.
func permLevel(v string) int {
	switch v {
	case "read":
		return 1
	case "write":
		return 2
	case "admin":
		return 3
	}
	return 0
}

// pageParams reads per_page (default 30, at most 100) and page (from 1).
// Values that do not parse are ignored, as GitHub does.
func pageParams(q url.Values) (perPage, page int) {
	perPage, page = 30, 1
	if n, err := strconv.Atoi(q.Get("per_page")); err == nil && n > 0 {
		perPage = min(n, 100)
	}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 0 {
		page = n
	}
	return perPage, page
}

// linkHeader builds GitHub's pagination Link header ("" for a single page).
func linkHeader(base string, perPage, page, total int) string {
	last := max(1, (total+perPage-1)/perPage)
	link := func(p int, rel string) string {
		return fmt.Sprintf("<%s?per_page=%d&page=%d>; rel=%q", base, perPage, p, rel)
	}
	var parts []string
	if page > 1 {
		parts = append(parts, link(min(page-1, last), "prev"))
	}
	if page < last {
		parts = append(parts, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		parts = append(parts, link(1, "first"))
	}
	return strings.Join(parts, ", ")
}

func (s *Server) accountJSONLocked(login string) map[string]any {
	acct := s.accountLocked(login)
	typ := acct.Type
	if typ == "" {
		typ = "Organization"
	}
	return map[string]any{
		"login":      acct.Login,
		"id":         acct.ID,
		"node_id":    fmt.Sprintf("O_fake%d", acct.ID),
		"type":       typ,
		"site_admin": false,
		"url":        s.APIURL + "/users/" + acct.Login,
		"html_url":   s.URL + "/" + acct.Login,
	}
}

// enterpriseJSONLocked is an installation's account when it is an enterprise: the "enterprise"
// schema of GitHub's REST description (slug and name, no login or type).
func (s *Server) enterpriseJSONLocked(acct *account) map[string]any {
	created := "2024-01-01T00:00:00Z"
	return map[string]any{
		"id":          acct.ID,
		"node_id":     fmt.Sprintf("E_fake%d", acct.ID),
		"name":        acct.Login,
		"slug":        acct.Login,
		"description": nil,
		"website_url": nil,
		"html_url":    s.URL + "/enterprises/" + acct.Login,
		"avatar_url":  s.URL + "/avatars/e/" + strconv.FormatInt(acct.ID, 10),
		"created_at":  created,
		"updated_at":  created,
	}
}

func (s *Server) installationJSONLocked(inst *Installation) map[string]any {
	var acct *account
	var accountJSON map[string]any
	if inst.AccountType == "Enterprise" {
		acct = s.enterpriseLocked(inst.Account)
		accountJSON = s.enterpriseJSONLocked(acct)
	} else {
		acct = s.accountLocked(inst.Account)
		accountJSON = s.accountJSONLocked(inst.Account)
	}
	sel := "all"
	if inst.Repositories != nil || inst.AccountType == "Enterprise" {
		sel = "selected"
	}
	htmlURL := fmt.Sprintf("%s/organizations/%s/settings/installations/%d", s.URL, acct.Login, inst.ID)
	switch inst.AccountType {
	case "User":
		htmlURL = fmt.Sprintf("%s/settings/installations/%d", s.URL, inst.ID)
	case "Enterprise":
		htmlURL = fmt.Sprintf("%s/enterprises/%s/settings/installations/%d", s.URL, acct.Login, inst.ID)
	}
	created := s.installMeta[inst.ID].created.Format(time.RFC3339)
	return map[string]any{
		"id":                        inst.ID,
		"client_id":                 inst.App.ClientID,
		"account":                   accountJSON,
		"repository_selection":      sel,
		"access_tokens_url":         fmt.Sprintf("%s/app/installations/%d/access_tokens", s.APIURL, inst.ID),
		"repositories_url":          s.APIURL + "/installation/repositories",
		"html_url":                  htmlURL,
		"app_id":                    inst.App.ID,
		"app_slug":                  inst.App.Slug,
		"target_id":                 acct.ID,
		"target_type":               inst.AccountType,
		"permissions":               inst.Permissions,
		"events":                    []string{},
		"created_at":                created,
		"updated_at":                created,
		"single_file_name":          nil,
		"has_multiple_single_files": false,
		"single_file_paths":         []string{},
		"suspended_by":              nil,
		"suspended_at":              nil,
	}
}

func (s *Server) repoJSONLocked(rep *repo) map[string]any {
	return map[string]any{
		"id":             rep.ID,
		"node_id":        fmt.Sprintf("R_fake%d", rep.ID),
		"name":           rep.Name,
		"full_name":      rep.fullName(),
		"private":        true,
		"visibility":     "private",
		"owner":          s.accountJSONLocked(rep.Owner),
		"html_url":       s.URL + "/" + rep.fullName(),
		"url":            s.APIURL + "/repos/" + rep.fullName(),
		"clone_url":      s.URL + "/" + rep.fullName() + ".git",
		"default_branch": "main",
		"fork":           false,
		"archived":       false,
		"disabled":       false,
	}
}
