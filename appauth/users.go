package appauth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// authNone sends a request without an Authorization header: GET /users/{username} is public.
const authNone authMode = -1

// User is a GitHub account as GET /users/{username} describes it.
type User struct {
	Login string
	ID    int64
	// Type is "User", "Organization" or, for an app's bot user, "Bot".
	Type string
}

// BotLogin is the login of an app's bot user: the app's slug followed by "[bot]". It is the name
// GitHub shows on what the app does, and the user its commits are attributed to.
func BotLogin(slug string) string { return slug + "[bot]" }

// User returns the account login (GET /users/{username}; for an app's bot user the login is
// BotLogin(slug), escaped in the path as %5Bbot%5D). The endpoint is public: token, an
// installation token, only lifts the request out of the unauthenticated rate limit (and is
// needed where the server allows no anonymous reads); with token "" the request carries no
// credentials. When GitHub answers 404 the error says there is no such account, and IsNotFound
// reports true for it.
func (c *Client) User(ctx context.Context, login, token string) (*User, error) {
	if login == "" || strings.ContainsAny(login, "/?#%\x00\r\n ") {
		return nil, fmt.Errorf("%q is not a GitHub login", login)
	}
	r := request{method: http.MethodGet, path: "/users/" + url.PathEscape(login), auth: authNone}
	if token != "" {
		r.auth, r.token = authToken, token
	}
	resp, err := c.do(ctx, r)
	if IsNotFound(err) {
		return nil, explain(err, "GitHub has no user %s", login)
	}
	if err != nil {
		return nil, err
	}
	var v struct {
		Login string `json:"login"`
		ID    int64  `json:"id"`
		Type  string `json:"type"`
	}
	if err := decode(r, resp, &v); err != nil {
		return nil, err
	}
	if v.ID <= 0 {
		return nil, fmt.Errorf("GitHub's answer to GET /users/%s has no user id", login)
	}
	return &User{Login: v.Login, ID: v.ID, Type: v.Type}, nil
}
