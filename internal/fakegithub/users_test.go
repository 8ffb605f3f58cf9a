package fakegithub

import (
	"net/http"
	"testing"
)

// TestGetUser: GET /users/{username} serves an app's bot user (type Bot, its own id, the login
// escaped or not), the accounts apps are installed on, 404 for anyone else, and 401 for a token
// that is not live; it needs no credentials.
func TestGetUser(t *testing.T) {
	s := newServer(t)
	app := s.NewApp("ci-bot")
	inst := s.Install(app, "acme", "Organization", map[string]string{"metadata": "read"})

	for _, path := range []string{"/users/ci-bot%5Bbot%5D", "/users/ci-bot[bot]", "/users/CI-Bot%5Bbot%5D"} {
		res := call(t, s, "GET", path, "", "")
		if res.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, res.status, res.body)
		}
		u := res.json(t)
		if u["login"] != "ci-bot[bot]" || u["type"] != "Bot" || u["id"] != float64(app.BotUserID()) || u["site_admin"] != false {
			t.Errorf("GET %s = %v", path, u)
		}
	}
	if app.BotUserID() == app.ID || app.BotUserID() == inst.ID {
		t.Errorf("the bot user's id %d must differ from the app's and the installation's", app.BotUserID())
	}

	res := call(t, s, "GET", "/users/acme", "", "")
	if res.status != http.StatusOK || res.json(t)["type"] != "Organization" {
		t.Errorf("GET /users/acme: %d %s", res.status, res.body)
	}
	res = call(t, s, "GET", "/users/other-bot%5Bbot%5D", "", "")
	if res.status != http.StatusNotFound || res.message(t) != "Not Found" {
		t.Errorf("unknown bot: %d %s", res.status, res.body)
	}

	tok := mintToken(t, s, app, inst, "")
	if res := call(t, s, "GET", "/users/ci-bot%5Bbot%5D", bearer(tok), ""); res.status != http.StatusOK {
		t.Errorf("with a live token: %d %s", res.status, res.body)
	}
	s.RevokeAll()
	if res := call(t, s, "GET", "/users/ci-bot%5Bbot%5D", bearer(tok), ""); res.status != http.StatusUnauthorized || res.message(t) != "Bad credentials" {
		t.Errorf("with a revoked token: %d %s", res.status, res.body)
	}
}
