package fakegithub

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// noRedirect is the fake's client with redirects left unfollowed, to see GitHub's 301s.
func noRedirect(s *Server) *http.Client {
	c := *s.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// gitGet sends a git info/refs request with x-access-token:tok ("" for none).
func gitGet(t *testing.T, s *Server, path, tok string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.SetBasicAuth("x-access-token", tok)
	}
	resp, err := noRedirect(s).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestRenamedRepository(t *testing.T) {
	s := newServer(t)
	app := s.NewApp("bot")
	for _, r := range []string{"acme/old", "acme/other"} {
		if err := s.AddRepo(r); err != nil {
			t.Fatal(err)
		}
	}
	inst := s.Install(app, "acme", "Organization", map[string]string{"contents": "read"}, "old")
	id := s.repos["acme/old"].ID
	if err := s.RenameRepo("acme/old", "acme/new"); err != nil {
		t.Fatal(err)
	}
	jwtAuth := bearer(appJWT(t, app, s.now()))

	// REST: the old name answers 301 to the id form, which answers the installation.
	res := callWith(t, noRedirect(s), s, "GET", "/repos/acme/old/installation", jwtAuth, "")
	wantLoc := s.APIURL + "/repositories/" + strconv.FormatInt(id, 10) + "/installation"
	if res.status != http.StatusMovedPermanently || res.header.Get("Location") != wantLoc || res.json(t)["url"] != wantLoc ||
		res.message(t) != "Moved Permanently" {
		t.Fatalf("old name: %d Location %q: %s", res.status, res.header.Get("Location"), res.body)
	}
	if res := callWith(t, noRedirect(s), s, "GET", "/repos/acme/old/installation", "", ""); res.status != http.StatusUnauthorized {
		t.Fatalf("old name without a JWT: %d", res.status)
	}
	res = call(t, s, "GET", "/repositories/"+strconv.FormatInt(id, 10)+"/installation", jwtAuth, "")
	if res.status != 200 || res.json(t)["id"] != float64(inst.ID) {
		t.Fatalf("by id: %d %s", res.status, res.body)
	}
	if res := call(t, s, "GET", "/repos/acme/new/installation", jwtAuth, ""); res.status != 200 {
		t.Fatalf("new name: %d", res.status)
	}

	// Minting by the old name fails; by id it works, and the installation followed the rename.
	res = call(t, s, "POST", "/app/installations/"+strconv.FormatInt(inst.ID, 10)+"/access_tokens", jwtAuth, `{"repositories":["old"]}`)
	if res.status != http.StatusUnprocessableEntity {
		t.Fatalf("mint by old name: %d", res.status)
	}
	tok := mintToken(t, s, app, inst, `{"repository_ids":[`+strconv.FormatInt(id, 10)+`]}`)

	// git: the old path redirects on git's first request, before credentials (so git moves
	// to the new URL); the new one asks for and checks the token as usual.
	for _, auth := range []string{"", tok} {
		resp := gitGet(t, s, "/acme/old.git/info/refs?service=git-upload-pack", auth)
		if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/acme/new.git/info/refs?service=git-upload-pack" {
			t.Fatalf("git old name (token %v): %d Location %q", auth != "", resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if resp := gitGet(t, s, "/acme/new.git/info/refs?service=git-upload-pack", ""); resp.StatusCode != 401 {
		t.Fatalf("git new name without a token: %d", resp.StatusCode)
	}
	if resp := gitGet(t, s, "/acme/new.git/info/refs?service=git-upload-pack", tok); resp.StatusCode != 200 {
		t.Fatalf("git new name: %d", resp.StatusCode)
	}

	// A new repository under the old name ends the redirect.
	if err := s.AddRepo("acme/old"); err != nil {
		t.Fatal(err)
	}
	if res := callWith(t, noRedirect(s), s, "GET", "/repos/acme/old/installation", jwtAuth, ""); res.status != http.StatusNotFound {
		t.Fatalf("old name taken again: %d", res.status)
	}
}

func TestEnterpriseInstallation(t *testing.T) {
	s := newServer(t)
	app := s.NewApp("bot")
	if err := s.AddRepo("acme/app"); err != nil {
		t.Fatal(err)
	}
	ent := s.Install(app, "octo-business", "Enterprise", map[string]string{"enterprise_custom_properties_for_organizations": "read"})
	s.Install(app, "acme", "Organization", map[string]string{"contents": "read"})
	res := call(t, s, "GET", "/app/installations", bearer(appJWT(t, app, s.now())), "")
	list := jsonArray(t, res.body)
	if len(list) != 2 {
		t.Fatalf("%d installations", len(list))
	}
	acct := list[0]["account"].(map[string]any)
	if list[0]["target_type"] != "Enterprise" || acct["slug"] != "octo-business" || acct["name"] == nil || acct["login"] != nil || acct["type"] != nil {
		t.Fatalf("enterprise installation %v", list[0])
	}
	if _, ok := list[0]["permissions"].(map[string]any)["metadata"]; ok {
		t.Errorf("an enterprise installation got metadata: %v", list[0]["permissions"])
	}
	// It reaches no repository, and is not a user's or organization's installation.
	res = call(t, s, "POST", "/app/installations/"+strconv.FormatInt(ent.ID, 10)+"/access_tokens", bearer(appJWT(t, app, s.now())), `{"repositories":["app"]}`)
	if res.status != http.StatusUnprocessableEntity {
		t.Fatalf("mint for a repository on an enterprise installation: %d", res.status)
	}
	if res := call(t, s, "GET", "/users/octo-business/installation", bearer(appJWT(t, app, s.now())), ""); res.status != 404 {
		t.Fatalf("users/SLUG/installation: %d", res.status)
	}
}

func TestAppIDOnly(t *testing.T) {
	s := newServer(t)
	app := s.NewApp("bot")
	now := s.now()
	byClientID := signRS256(t, app.Key, jwt.MapClaims{"iat": now.Unix() - 60, "exp": now.Unix() + 540, "iss": app.ClientID})
	if res := call(t, s, "GET", "/app", bearer(byClientID), ""); res.status != 200 {
		t.Fatalf("Client ID on a current server: %d", res.status)
	}
	s.SetAppIDOnly(true)
	res := call(t, s, "GET", "/app", bearer(byClientID), "")
	if res.status != 401 || res.message(t) != "'Issuer' claim ('iss') must be an Integer" {
		t.Fatalf("Client ID on an App-ID-only server: %d %s", res.status, res.body)
	}
	if res := call(t, s, "GET", "/app", bearer(appJWT(t, app, now)), ""); res.status != 200 {
		t.Fatalf("App ID on an App-ID-only server: %d", res.status)
	}
}

func TestReplicationLag(t *testing.T) {
	s := newServer(t)
	app := s.NewApp("bot")
	if err := s.AddRepo("acme/app"); err != nil {
		t.Fatal(err)
	}
	inst := s.Install(app, "acme", "Organization", map[string]string{"contents": "read"})
	s.SetReplicationLag(time.Hour) // long enough that the test cannot outrun it
	all := mintToken(t, s, app, inst, `{}`)
	scoped := mintToken(t, s, app, inst, `{"repositories":["app"]}`)
	if res := call(t, s, "GET", "/installation/repositories", bearer(all), ""); res.status != 401 || res.message(t) != msgBadCredentials {
		t.Fatalf("API, whole installation: %d %s", res.status, res.body)
	}
	if res := call(t, s, "GET", "/installation/repositories", bearer(scoped), ""); res.status != 403 {
		t.Fatalf("API, scoped: %d %s", res.status, res.body)
	}
	if resp := gitGet(t, s, "/acme/app.git/info/refs?service=git-upload-pack", scoped); resp.StatusCode != 401 {
		t.Fatalf("git: %d", resp.StatusCode)
	}
	s.SetReplicationLag(0)
	if res := call(t, s, "GET", "/installation/repositories", bearer(scoped), ""); res.status != 200 {
		t.Fatalf("API after the lag: %d", res.status)
	}
	if resp := gitGet(t, s, "/acme/app.git/info/refs?service=git-upload-pack", all); resp.StatusCode != 200 {
		t.Fatalf("git after the lag: %d", resp.StatusCode)
	}
	if !strings.HasPrefix(all, "ghs_") {
		t.Fatal(all)
	}
}
