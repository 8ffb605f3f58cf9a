package fakegithub

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func addRepos(t *testing.T, s *Server, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := s.AddRepo(n); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCommonHeadersAndUnknownRoutes(t *testing.T) {
	s := newServer(t)
	app := s.NewApp("builder")
	jwt := bearer(appJWT(t, app, time.Now()))

	res := call(t, s, "GET", "/app", jwt, "")
	if res.status != http.StatusOK {
		t.Fatalf("GET /app: %d %s", res.status, res.body)
	}
	if !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
		t.Errorf("Content-Type %q", res.header.Get("Content-Type"))
	}
	if _, err := http.ParseTime(res.header.Get("Date")); err != nil {
		t.Errorf("Date %q: %v", res.header.Get("Date"), err)
	}
	for _, h := range []string{"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "x-ratelimit-used"} {
		if _, err := strconv.Atoi(res.header.Get(h)); err != nil {
			t.Errorf("%s = %q, want a number", h, res.header.Get(h))
		}
	}
	if res.header.Get("x-ratelimit-resource") != "core" || res.header.Get("x-github-request-id") == "" {
		t.Errorf("headers %v", res.header)
	}
	if v := res.header.Get("X-GitHub-Api-Version"); v != "2022-11-28" {
		t.Errorf("default API version %q", v)
	}
	used1, _ := strconv.Atoi(res.header.Get("x-ratelimit-used"))

	req, _ := http.NewRequest("GET", s.APIURL+"/app", nil)
	req.Header.Set("Authorization", jwt)
	req.Header.Set("User-Agent", "t")
	req.Header.Set("X-GitHub-Api-Version", "2026-03-10")
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if v := resp.Header.Get("X-GitHub-Api-Version"); v != "2026-03-10" {
		t.Errorf("API version not echoed: %q", v)
	}
	used2, _ := strconv.Atoi(resp.Header.Get("x-ratelimit-used"))
	rem2, _ := strconv.Atoi(resp.Header.Get("x-ratelimit-remaining"))
	if used2 != used1+1 || rem2 != rateLimit-used2 {
		t.Errorf("rate limit counters: used %d then %d, remaining %d", used1, used2, rem2)
	}

	for _, c := range []struct{ method, path string }{
		{"GET", "/nope"},
		{"POST", "/app"},                    // wrong method: GitHub says 404
		{"GET", "/app/installations/1/x"},   // too deep
		{"DELETE", "/app/installations/1"},  // not served
		{"GET", "/repos/acme/installation"}, // too shallow
	} {
		res := call(t, s, c.method, c.path, jwt, "")
		if res.status != http.StatusNotFound || res.message(t) != "Not Found" || res.json(t)["status"] != "404" {
			t.Errorf("%s %s: %d %s", c.method, c.path, res.status, res.body)
		}
	}
	if got := s.Count("POST /app"); got != 1 {
		t.Errorf("Count(POST /app) = %d", got)
	}

	// GitHub refuses API requests without a User-Agent.
	req, _ = http.NewRequest("GET", s.APIURL+"/app", nil)
	req.Header.Set("Authorization", jwt)
	req.Header.Set("User-Agent", "")
	resp, err = s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("no User-Agent: %d, want 403", resp.StatusCode)
	}
	if got := s.APICalls(); got != 8 {
		t.Errorf("APICalls = %d, want 8", got)
	}
	if got := s.GitRequests(); got != 0 {
		t.Errorf("GitRequests = %d, want 0", got)
	}
	s.ResetCounters()
	if s.APICalls() != 0 || s.Count("GET /app") != 0 || len(s.Requests()) != 0 {
		t.Error("ResetCounters left counts behind")
	}
}

func TestCertificateTrust(t *testing.T) {
	s := newServer(t)
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("CAFile holds no certificate")
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer c.CloseIdleConnections()
	port := strings.TrimPrefix(s.Host, "127.0.0.1:")
	for _, u := range []string{s.APIURL + "/app", "https://localhost:" + port + "/api/v3/app"} {
		resp, err := c.Get(u)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", u, resp.StatusCode)
		}
	}
	// A client that does not trust the CA is refused.
	if _, err := http.Get(s.APIURL + "/app"); err == nil {
		t.Error("default client trusted the fake's certificate")
	}
}

func TestDiscovery(t *testing.T) {
	s := newServer(t)
	app := s.NewApp("builder")
	stranger := s.NewApp("stranger")
	addRepos(t, s, "acme/widgets", "acme/gadgets", "alice/dotfiles", "alice/secret", "other/thing")
	org := s.Install(app, "acme", "Organization", map[string]string{"contents": "write"})
	user := s.Install(app, "alice", "User", map[string]string{"contents": "read"}, "dotfiles")
	jwt := bearer(appJWT(t, app, time.Now()))

	res := call(t, s, "GET", "/repos/acme/widgets/installation", jwt, "")
	if res.status != http.StatusOK {
		t.Fatalf("%d %s", res.status, res.body)
	}
	m := res.json(t)
	acct := m["account"].(map[string]any)
	want := map[string]any{
		"id":                   float64(org.ID),
		"app_id":               float64(app.ID),
		"app_slug":             "builder",
		"repository_selection": "all",
		"target_type":          "Organization",
		"access_tokens_url":    fmt.Sprintf("%s/app/installations/%d/access_tokens", s.APIURL, org.ID),
		"repositories_url":     s.APIURL + "/installation/repositories",
		"target_id":            acct["id"],
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	if acct["login"] != "acme" || acct["type"] != "Organization" {
		t.Errorf("account = %v", acct)
	}
	perms := m["permissions"].(map[string]any)
	if perms["contents"] != "write" || perms["metadata"] != "read" {
		t.Errorf("permissions = %v (metadata:read is implied)", perms)
	}
	if _, err := time.Parse(time.RFC3339, m["created_at"].(string)); err != nil {
		t.Errorf("created_at: %v", err)
	}

	instID := func(path string, auth string) (int, int64) {
		t.Helper()
		res := call(t, s, "GET", path, auth, "")
		if res.status != http.StatusOK {
			if res.message(t) != "Not Found" || !strings.HasPrefix(res.json(t)["documentation_url"].(string), "https://docs.github.com/rest/apps/") {
				t.Errorf("%s: %d %s", path, res.status, res.body)
			}
			return res.status, 0
		}
		return res.status, int64(res.json(t)["id"].(float64))
	}
	cases := []struct {
		path   string
		status int
		id     int64
	}{
		{"/repos/ACME/Widgets/installation", 200, org.ID}, // case-insensitive
		{"/repos/acme/gadgets/installation", 200, org.ID},
		{"/repos/acme/nope/installation", 404, 0},
		{"/repos/other/thing/installation", 404, 0}, // not installed there
		{"/repos/alice/dotfiles/installation", 200, user.ID},
		{"/repos/alice/secret/installation", 404, 0}, // not selected
		{"/orgs/acme/installation", 200, org.ID},
		{"/orgs/Acme/installation", 200, org.ID},
		{"/orgs/alice/installation", 404, 0}, // a user, not an org
		{"/orgs/nobody/installation", 404, 0},
		{"/users/alice/installation", 200, user.ID},
		{"/users/acme/installation", 200, org.ID}, // any account
		{"/users/nobody/installation", 404, 0},
		{fmt.Sprintf("/app/installations/%d", org.ID), 200, org.ID},
		{"/app/installations/12345", 404, 0},
		{"/app/installations/abc", 404, 0},
	}
	for _, c := range cases {
		status, id := instID(c.path, jwt)
		if status != c.status || id != c.id {
			t.Errorf("%s: %d id %d, want %d id %d", c.path, status, id, c.status, c.id)
		}
	}
	if m := call(t, s, "GET", "/users/alice/installation", jwt, "").json(t); m["repository_selection"] != "selected" || m["target_type"] != "User" {
		t.Errorf("user installation = %v", m)
	}

	// Another app sees none of these installations.
	sj := bearer(appJWT(t, stranger, time.Now()))
	for _, p := range []string{"/repos/acme/widgets/installation", "/orgs/acme/installation", fmt.Sprintf("/app/installations/%d", org.ID)} {
		if status, _ := instID(p, sj); status != 404 {
			t.Errorf("stranger %s: %d", p, status)
		}
	}
	if got := s.Count("GET /repos/{owner}/{repo}/installation"); got != 8 {
		t.Errorf("Count(repo installation) = %d, want 8", got)
	}
	if got := s.Count("GET /orgs/{org}/installation"); got != 5 {
		t.Errorf("Count(org installation) = %d, want 5", got)
	}

	s.Uninstall(org)
	if status, _ := instID("/repos/acme/widgets/installation", jwt); status != 404 {
		t.Errorf("after Uninstall: %d", status)
	}
}

func TestInstallReplaces(t *testing.T) {
	s := newServer(t)
	app := s.NewApp("builder")
	addRepos(t, s, "acme/widgets")
	first := s.Install(app, "acme", "Organization", map[string]string{"contents": "read"})
	tok := mintToken(t, s, app, first, "")
	second := s.Install(app, "acme", "Organization", map[string]string{"contents": "write"})
	if second.ID == first.ID {
		t.Fatal("reinstall kept the ID")
	}
	if res := call(t, s, "DELETE", "/installation/token", "token "+tok, ""); res.status != http.StatusUnauthorized {
		t.Errorf("token of a replaced installation: %d", res.status)
	}
	list := call(t, s, "GET", "/app/installations", bearer(appJWT(t, app, time.Now())), "")
	if !strings.Contains(string(list.body), fmt.Sprintf(`"id":%d`, second.ID)) || strings.Contains(string(list.body), fmt.Sprintf(`"id":%d,`, first.ID)) {
		t.Errorf("installations: %s", list.body)
	}
}

func TestMintScopes(t *testing.T) {
	s := newServer(t)
	app := s.NewApp("builder")
	stranger := s.NewApp("stranger")
	addRepos(t, s, "acme/widgets", "acme/gadgets", "bob/a", "bob/b")
	inst := s.Install(app, "acme", "Organization", map[string]string{"contents": "write", "issues": "read"})
	bob := s.Install(app, "bob", "User", map[string]string{"contents": "read"}, "a")
	strangerInst := s.Install(stranger, "acme", "Organization", map[string]string{"contents": "read"})
	mintPath := func(id int64) string { return fmt.Sprintf("/app/installations/%d/access_tokens", id) }
	jwt := bearer(appJWT(t, app, time.Now()))

	// No body: everything the installation has.
	all := mint(t, s, app, inst, "")
	if all["repository_selection"] != "all" {
		t.Errorf("repository_selection = %v", all["repository_selection"])
	}
	if _, ok := all["repositories"]; ok {
		t.Error("a token for all repositories lists repositories")
	}
	if p := all["permissions"].(map[string]any); p["contents"] != "write" || p["issues"] != "read" || p["metadata"] != "read" || len(p) != 3 {
		t.Errorf("permissions = %v", p)
	}
	if !regexp.MustCompile(`^ghs_[A-Za-z0-9]{36}$`).MatchString(all["token"].(string)) {
		t.Errorf("classic token has the wrong shape (length %d)", len(all["token"].(string)))
	}
	exp, err := time.Parse(time.RFC3339, all["expires_at"].(string))
	if err != nil || !strings.HasSuffix(all["expires_at"].(string), "Z") {
		t.Fatalf("expires_at %v: %v", all["expires_at"], err)
	}
	if d := time.Until(exp); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("expires in %v, want 1h", d)
	}

	// The repositories endpoint lists what a token reaches, with ids.
	list := call(t, s, "GET", "/installation/repositories", "token "+all["token"].(string), "").json(t)
	ids := map[string]float64{}
	for _, r := range list["repositories"].([]any) {
		r := r.(map[string]any)
		ids[r["name"].(string)] = r["id"].(float64)
	}
	if list["total_count"] != float64(2) || ids["widgets"] == 0 || ids["gadgets"] == 0 {
		t.Fatalf("installation repositories = %v", list)
	}

	// Narrowed by name and permission.
	one := mint(t, s, app, inst, `{"repositories":["Widgets"],"permissions":{"contents":"read"}}`)
	if one["repository_selection"] != "selected" {
		t.Errorf("repository_selection = %v", one["repository_selection"])
	}
	repos := one["repositories"].([]any)
	if len(repos) != 1 {
		t.Fatalf("repositories = %v", repos)
	}
	r0 := repos[0].(map[string]any)
	if r0["name"] != "widgets" || r0["full_name"] != "acme/widgets" || r0["private"] != true {
		t.Errorf("repository = %v", r0)
	}
	if p := one["permissions"].(map[string]any); len(p) != 1 || p["contents"] != "read" {
		t.Errorf("permissions = %v", p)
	}
	// By id.
	byID := mint(t, s, app, inst, fmt.Sprintf(`{"repository_ids":[%d]}`, int64(ids["gadgets"])))
	if rs := byID["repositories"].([]any); len(rs) != 1 || rs[0].(map[string]any)["name"] != "gadgets" {
		t.Errorf("by id: %v", byID["repositories"])
	}
	// A selected installation's token covers its selection.
	sel := mint(t, s, app, bob, "")
	if rs := sel["repositories"].([]any); sel["repository_selection"] != "selected" || len(rs) != 1 || rs[0].(map[string]any)["full_name"] != "bob/a" {
		t.Errorf("selected installation: %v", sel)
	}

	fails := []struct {
		name   string
		id     int64
		body   string
		status int
		msg    string
	}{
		{"unknown repository", inst.ID, `{"repositories":["nope"]}`, 422, msgRepoNotAccessible},
		{"owner/name form", inst.ID, `{"repositories":["acme/widgets"]}`, 422, msgRepoNotAccessible},
		{"another account's repository", inst.ID, `{"repositories":["a"]}`, 422, msgRepoNotAccessible},
		{"not in the selection", bob.ID, `{"repositories":["b"]}`, 422, msgRepoNotAccessible},
		{"unknown repository id", inst.ID, `{"repository_ids":[4242]}`, 422, msgRepoNotAccessible},
		{"permission above the installation's", inst.ID, `{"permissions":{"contents":"admin"}}`, 422, msgPermsNotGranted},
		{"issues write over read", inst.ID, `{"permissions":{"issues":"write"}}`, 422, msgPermsNotGranted},
		{"permission not granted", inst.ID, `{"permissions":{"pull_requests":"read"}}`, 422, msgPermsNotGranted},
		{"bad level", inst.ID, `{"permissions":{"contents":"banana"}}`, 422, msgPermsNotGranted},
		{"bad JSON", inst.ID, `{"repositories":`, 400, msgParseJSON},
		{"another app's installation", strangerInst.ID, ``, 404, "Not Found"},
		{"unknown installation", 424242, ``, 404, "Not Found"},
	}
	s.ResetCounters()
	for _, f := range fails {
		res := call(t, s, "POST", mintPath(f.id), jwt, f.body)
		if res.status != f.status || res.message(t) != f.msg {
			t.Errorf("%s: %d %s, want %d %q", f.name, res.status, res.body, f.status, f.msg)
		}
	}
	mints := s.Mints()
	if len(mints) != len(fails) {
		t.Fatalf("Mints() has %d entries, want %d", len(mints), len(fails))
	}
	for i, m := range mints {
		if m.Status != fails[i].status || m.InstallationID != fails[i].id {
			t.Errorf("mint %d = %+v, want status %d installation %d", i, m, fails[i].status, fails[i].id)
		}
	}
	if got := mints[0].Repositories; !slices.Equal(got, []string{"nope"}) {
		t.Errorf("recorded repositories %v", got)
	}
	if got := mints[4].Repositories; !slices.Equal(got, []string{"#4242"}) {
		t.Errorf("recorded repository ids %v", got)
	}
	if got := mints[5].Permissions; got["contents"] != "admin" || len(got) != 1 {
		t.Errorf("recorded permissions %v", got)
	}
	if got := s.Count("POST /app/installations/{id}/access_tokens"); got != len(fails) {
		t.Errorf("Count = %d", got)
	}

	// Tokens() holds the effective scope of every issued token.
	toks := s.Tokens()
	if len(toks) != 4 {
		t.Fatalf("Tokens() has %d, want 4", len(toks))
	}
	if toks[0].Repositories != nil || toks[0].Permissions["contents"] != "write" || toks[0].InstallationID != inst.ID {
		t.Errorf("token 0 = %+v", toks[0])
	}
	if !slices.Equal(toks[1].Repositories, []string{"widgets"}) || toks[1].Permissions["contents"] != "read" || len(toks[1].Permissions) != 1 {
		t.Errorf("token 1 = %+v", toks[1])
	}
	if !slices.Equal(toks[2].Repositories, []string{"gadgets"}) {
		t.Errorf("token 2 = %+v", toks[2])
	}
	if !slices.Equal(toks[3].Repositories, []string{"a"}) || toks[3].InstallationID != bob.ID {
		t.Errorf("token 3 = %+v", toks[3])
	}
	if !toks[0].ExpiresAt.Equal(exp) {
		t.Errorf("Tokens() expiry %v, response said %v", toks[0].ExpiresAt, exp)
	}
}

func TestTokenFormatsAndLifetime(t *testing.T) {
	s := newServer(t)
	app := s.NewApp("builder")
	addRepos(t, s, "acme/widgets")
	inst := s.Install(app, "acme", "Organization", map[string]string{"contents": "read"})

	s.SetLongTokens(true)
	s.SetTokenLifetime(5 * time.Minute)
	res := mint(t, s, app, inst, "")
	tok := res["token"].(string)
	if len(tok) < 500 || len(tok) > 540 || !strings.HasPrefix(tok, "ghs_") {
		t.Fatalf("long token: length %d", len(tok))
	}
	segs := strings.Split(strings.TrimPrefix(tok, "ghs_"), ".")
	if len(segs) != 3 {
		t.Fatalf("long token has %d dot-separated segments, want 3", len(segs))
	}
	for i, seg := range segs {
		if _, err := base64.RawURLEncoding.DecodeString(seg); err != nil || seg == "" {
			t.Errorf("segment %d is not base64url: %v", i, err)
		}
	}
	exp, _ := time.Parse(time.RFC3339, res["expires_at"].(string))
	if d := time.Until(exp); d < 4*time.Minute || d > 6*time.Minute {
		t.Errorf("lifetime %v, want 5m", d)
	}
	// Long tokens work wherever classic ones do.
	if r := call(t, s, "GET", "/installation/repositories", "Bearer "+tok, ""); r.status != http.StatusOK {
		t.Errorf("long token rejected: %d %s", r.status, r.body)
	}

	s.SetLongTokens(false)
	if tok := mintToken(t, s, app, inst, ""); len(tok) != 40 {
		t.Errorf("classic token length %d", len(tok))
	}
}

func TestRevocation(t *testing.T) {
	s := newServer(t)
	app := s.NewApp("builder")
	addRepos(t, s, "acme/widgets")
	inst := s.Install(app, "acme", "Organization", map[string]string{"contents": "read"})

	a := mintToken(t, s, app, inst, "")
	if r := call(t, s, "DELETE", "/installation/token", "token "+a, ""); r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	if r := call(t, s, "DELETE", "/installation/token", "token "+a, ""); r.status != http.StatusUnauthorized || r.message(t) != msgBadCredentials {
		t.Errorf("second DELETE: %d %s", r.status, r.body)
	}
	b := mintToken(t, s, app, inst, "")
	if r := call(t, s, "DELETE", "/installation/token", "Bearer "+b, ""); r.status != http.StatusNoContent {
		t.Errorf("DELETE with Bearer: %d %s", r.status, r.body)
	}
	if r := call(t, s, "DELETE", "/installation/token", "token ghs_unknown", ""); r.status != http.StatusUnauthorized || r.message(t) != msgBadCredentials {
		t.Errorf("unknown token: %d %s", r.status, r.body)
	}
	if r := call(t, s, "DELETE", "/installation/token", "", ""); r.status != http.StatusUnauthorized || r.message(t) != msgRequiresAuth {
		t.Errorf("no token: %d %s", r.status, r.body)
	}

	c := mintToken(t, s, app, inst, "")
	s.RevokeAll()
	for _, tk := range s.Tokens() {
		if !tk.Revoked {
			t.Errorf("token of installation %d not revoked", tk.InstallationID)
		}
	}
	if r := call(t, s, "GET", "/installation/repositories", "token "+c, ""); r.status != http.StatusUnauthorized {
		t.Errorf("revoked token: %d", r.status)
	}
	d := mintToken(t, s, app, inst, "")
	if r := call(t, s, "GET", "/installation/repositories", "token "+d, ""); r.status != http.StatusOK {
		t.Errorf("token minted after RevokeAll: %d", r.status)
	}
	s.Uninstall(inst)
	if r := call(t, s, "GET", "/installation/repositories", "token "+d, ""); r.status != http.StatusUnauthorized {
		t.Errorf("token of an uninstalled installation: %d", r.status)
	}
}

func TestPagination(t *testing.T) {
	s := newServer(t)
	app := s.NewApp("builder")
	var want []int64
	for i := range 35 {
		want = append(want, s.Install(app, fmt.Sprintf("org%02d", i), "Organization", nil).ID)
	}
	jwt := bearer(appJWT(t, app, time.Now()))
	page := func(query string) ([]int64, string) {
		t.Helper()
		res := call(t, s, "GET", "/app/installations"+query, jwt, "")
		if res.status != http.StatusOK {
			t.Fatalf("%s: %d %s", query, res.status, res.body)
		}
		var ids []int64
		for _, m := range jsonArray(t, res.body) {
			ids = append(ids, int64(m["id"].(float64)))
		}
		return ids, res.header.Get("Link")
	}
	base := s.APIURL + "/app/installations"

	ids, link := page("")
	if !slices.Equal(ids, want[:30]) {
		t.Errorf("default page: %v", ids)
	}
	if link != fmt.Sprintf(`<%s?per_page=30&page=2>; rel="next", <%s?per_page=30&page=2>; rel="last"`, base, base) {
		t.Errorf("Link %q", link)
	}
	ids, link = page("?per_page=10&page=2")
	if !slices.Equal(ids, want[10:20]) {
		t.Errorf("page 2: %v", ids)
	}
	for _, rel := range []string{`page=1>; rel="prev"`, `page=3>; rel="next"`, `page=4>; rel="last"`, `page=1>; rel="first"`} {
		if !strings.Contains(link, rel) {
			t.Errorf("Link %q lacks %s", link, rel)
		}
	}
	ids, link = page("?per_page=10&page=4")
	if !slices.Equal(ids, want[30:]) || strings.Contains(link, `rel="next"`) {
		t.Errorf("last page: %v %q", ids, link)
	}
	ids, link = page("?per_page=500")
	if !slices.Equal(ids, want) || link != "" {
		t.Errorf("per_page=500: %d ids, Link %q", len(ids), link)
	}
	ids, _ = page("?per_page=10&page=9")
	if len(ids) != 0 {
		t.Errorf("past the end: %v", ids)
	}
	var all []int64
	for p := 1; p <= 4; p++ {
		ids, _ := page(fmt.Sprintf("?per_page=10&page=%d", p))
		all = append(all, ids...)
	}
	if !slices.Equal(all, want) {
		t.Errorf("walking pages gave %v", all)
	}
}

func TestConcurrentMints(t *testing.T) {
	s := newServer(t)
	app := s.NewApp("builder")
	addRepos(t, s, "acme/widgets")
	inst := s.Install(app, "acme", "Organization", map[string]string{"contents": "read"})
	jwt := bearer(appJWT(t, app, time.Now()))
	path := fmt.Sprintf("/app/installations/%d/access_tokens", inst.ID)
	var wg sync.WaitGroup
	errs := make(chan string, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := call(t, s, "POST", path, jwt, `{"repositories":["widgets"]}`); r.status != http.StatusCreated {
				errs <- fmt.Sprintf("%d %s", r.status, r.body)
			}
			s.Tokens()
			s.Count(path)
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	seen := map[string]bool{}
	for _, tk := range s.Tokens() {
		seen[tk.Token] = true
	}
	if len(seen) != 20 || len(s.Mints()) != 20 || s.Count("POST /app/installations/{id}/access_tokens") != 20 {
		t.Errorf("%d distinct tokens, %d mints", len(seen), len(s.Mints()))
	}
}

func TestLatency(t *testing.T) {
	s := newServer(t)
	s.SetLatency(150 * time.Millisecond)
	start := time.Now()
	call(t, s, "GET", "/app", "", "")
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("request took %v with 150ms latency", d)
	}
}
