package fakegithub

import (
	"fmt"
	"net/http"
	"strings"
)

// docUsers is the documentation_url of the users endpoints' errors.
const docUsers = "https://docs.github.com/rest/users/users#get-a-user"

// botUserBase offsets the ids of the apps' bot users, so that a test can tell a bot user's id
// from the app's id and the installation's id: on GitHub they are three unrelated numbers
// (dependabot[bot] is user 49699333, its app id is 29110).
const botUserBase = 41890000

// BotLogin is the login of app's bot user, "SLUG[bot]".
func (a *App) BotLogin() string { return a.Slug + "[bot]" }

// BotUserID is the user id of app's bot user, which GitHub's noreply commit address carries
// (ID+SLUG[bot]@users.noreply.github.com).
func (a *App) BotUserID() int64 { return botUserBase + a.ID }

// handleGetUser answers GET /users/{username} with the public-user schema of GitHub's REST
// description (src/rest/data/fpt-2022-11-28/users.json, "Get a user"): an app's bot user has
// "type": "Bot" and the login SLUG[bot]; organisations and users the apps are installed on are
// served too. The endpoint is public: without an Authorization header it answers; with a token
// that is not live it answers 401 "Bad credentials", as GitHub does for any endpoint.
func (s *Server) handleGetUser(w http.ResponseWriter, r *http.Request, rt *route, p map[string]string) {
	if tok, present := installationToken(r); present {
		s.mu.Lock()
		t, _ := s.liveTokenLocked(tok)
		s.mu.Unlock()
		if t == nil {
			writeError(w, http.StatusUnauthorized, msgBadCredentials, docRest)
			return
		}
	}
	login := p["username"]
	s.mu.Lock()
	defer s.mu.Unlock()
	if slug, ok := strings.CutSuffix(strings.ToLower(login), "[bot]"); ok {
		for _, a := range s.apps {
			if strings.EqualFold(a.Slug, slug) {
				writeJSON(w, http.StatusOK, s.publicUserLocked(a.BotLogin(), a.BotUserID(), "Bot"))
				return
			}
		}
	} else if acct := s.accounts[strings.ToLower(login)]; acct != nil && acct.Type != "" {
		writeJSON(w, http.StatusOK, s.publicUserLocked(acct.Login, acct.ID, acct.Type))
		return
	}
	writeError(w, http.StatusNotFound, msgNotFound, docUsers)
}

// publicUserLocked is GitHub's public-user object (users.json), with the counts a new account has.
func (s *Server) publicUserLocked(login string, id int64, typ string) map[string]any {
	api := s.APIURL + "/users/" + strings.ReplaceAll(strings.ReplaceAll(login, "[", "%5B"), "]", "%5D")
	return map[string]any{
		"login":               login,
		"id":                  id,
		"node_id":             fmt.Sprintf("BOT_fake%d", id),
		"avatar_url":          s.URL + "/avatars/u/" + fmt.Sprint(id),
		"gravatar_id":         "",
		"url":                 api,
		"html_url":            s.URL + "/" + login,
		"followers_url":       api + "/followers",
		"following_url":       api + "/following{/other_user}",
		"gists_url":           api + "/gists{/gist_id}",
		"starred_url":         api + "/starred{/owner}{/repo}",
		"subscriptions_url":   api + "/subscriptions",
		"organizations_url":   api + "/orgs",
		"repos_url":           api + "/repos",
		"events_url":          api + "/events{/privacy}",
		"received_events_url": api + "/received_events",
		"type":                typ,
		"user_view_type":      "public",
		"site_admin":          false,
		"name":                nil,
		"company":             nil,
		"blog":                "",
		"location":            nil,
		"email":               nil,
		"hireable":            nil,
		"bio":                 nil,
		"twitter_username":    nil,
		"public_repos":        0,
		"public_gists":        0,
		"followers":           0,
		"following":           0,
		"created_at":          "2024-01-01T00:00:00Z",
		"updated_at":          "2024-01-01T00:00:00Z",
	}
}
