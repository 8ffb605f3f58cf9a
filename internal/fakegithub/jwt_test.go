package fakegithub

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestAppJWTRules(t *testing.T) {
	s := newServer(t)
	app := s.NewApp("builder")
	other := s.NewApp("other")
	if app.Key.N.Cmp(other.Key.N) == 0 {
		t.Fatal("two apps of one server share a key")
	}
	if err := s.AddRepo("acme/widgets"); err != nil {
		t.Fatal(err)
	}
	inst := s.Install(app, "acme", "Organization", map[string]string{"contents": "read"})
	instToken := mintToken(t, s, app, inst, "")

	now := time.Now().Unix()
	id := strconv.FormatInt(app.ID, 10)
	hs256, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iat": now - 60, "exp": now + 540, "iss": id}).
		SignedString(app.PEM)
	if err != nil {
		t.Fatal(err)
	}
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"iat": now - 60, "exp": now + 540, "iss": id}).
		SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name    string
		auth    string
		wantMsg string // "" = accepted
	}{
		{"iss as string app id", bearer(signRS256(t, app.Key, jwt.MapClaims{"iat": now - 60, "exp": now + 540, "iss": id})), ""},
		{"iss as number", bearer(signRS256(t, app.Key, jwt.MapClaims{"iat": now - 60, "exp": now + 540, "iss": app.ID})), ""},
		{"iss as client id", bearer(signRS256(t, app.Key, jwt.MapClaims{"iat": now - 60, "exp": now + 540, "iss": app.ClientID})), ""},
		{"lower-case bearer", "bearer " + signRS256(t, app.Key, jwt.MapClaims{"iat": now, "exp": now + 60, "iss": id}), ""},
		{"exp exactly 10 minutes ahead", bearer(signRS256(t, app.Key, jwt.MapClaims{"iat": now - 60, "exp": now + 600, "iss": id})), ""},
		{"signed with another app's key", bearer(signRS256(t, other.Key, jwt.MapClaims{"iat": now - 60, "exp": now + 540, "iss": id})), msgJWTDecode},
		{"HS256", bearer(hs256), msgJWTDecode},
		{"alg none", bearer(none), msgJWTDecode},
		{"exp too far", bearer(signRS256(t, app.Key, jwt.MapClaims{"iat": now - 60, "exp": now + 660, "iss": id})), msgExpTooFar},
		{"expired", bearer(signRS256(t, app.Key, jwt.MapClaims{"iat": now - 600, "exp": now - 1, "iss": id})), msgExpNumeric},
		{"no exp", bearer(signRS256(t, app.Key, jwt.MapClaims{"iat": now - 60, "iss": id})), msgExpNumeric},
		{"exp as string", bearer(signRS256(t, app.Key, jwt.MapClaims{"iat": now - 60, "exp": strconv.FormatInt(now+300, 10), "iss": id})), msgExpNumeric},
		{"iat in the future", bearer(signRS256(t, app.Key, jwt.MapClaims{"iat": now + 30, "exp": now + 540, "iss": id})), msgIssuedAt},
		{"no iat", bearer(signRS256(t, app.Key, jwt.MapClaims{"exp": now + 540, "iss": id})), msgIssuedAt},
		{"fractional iat", bearer(signRS256(t, app.Key, jwt.MapClaims{"iat": float64(now) - 60.5, "exp": now + 540, "iss": id})), msgIssuedAt},
		{"unknown iss", bearer(signRS256(t, app.Key, jwt.MapClaims{"iat": now - 60, "exp": now + 540, "iss": "999999"})), msgIntegrationNotFound},
		{"no iss", bearer(signRS256(t, app.Key, jwt.MapClaims{"iat": now - 60, "exp": now + 540})), msgNoIssuer},
		{"garbage", bearer("not.a.jwt"), msgJWTDecode},
		{"token scheme", "token " + signRS256(t, app.Key, jwt.MapClaims{"iat": now - 60, "exp": now + 540, "iss": id}), msgJWTDecode},
		{"no authorization", "", msgJWTDecode},
		{"installation token instead of JWT", bearer(instToken), msgJWTDecode},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := call(t, s, "GET", "/app", tc.auth, "")
			if tc.wantMsg == "" {
				if res.status != http.StatusOK {
					t.Fatalf("status %d, want 200: %s", res.status, res.body)
				}
				body := res.json(t)
				if body["id"] != float64(app.ID) || body["slug"] != "builder" || body["client_id"] != app.ClientID {
					t.Errorf("GET /app = %s", res.body)
				}
				return
			}
			if res.status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401: %s", res.status, res.body)
			}
			m := res.json(t)
			if m["message"] != tc.wantMsg {
				t.Errorf("message %q, want %q", m["message"], tc.wantMsg)
			}
			if m["status"] != "401" || m["documentation_url"] != docRest {
				t.Errorf("error body %s lacks GitHub's shape", res.body)
			}
		})
	}
}

func TestClockOffset(t *testing.T) {
	s := newServer(t)
	app := s.NewApp("builder")
	if err := s.AddRepo("acme/widgets"); err != nil {
		t.Fatal(err)
	}
	inst := s.Install(app, "acme", "Organization", map[string]string{"contents": "read"})
	real := time.Now()

	// GitHub's clock an hour ahead: a JWT from the client's clock has expired.
	s.SetClockOffset(time.Hour)
	res := call(t, s, "GET", "/app", bearer(appJWT(t, app, real)), "")
	if res.status != http.StatusUnauthorized || res.message(t) != msgExpNumeric {
		t.Fatalf("ahead: status %d %s, want 401 %q", res.status, res.body, msgExpNumeric)
	}
	date, err := http.ParseTime(res.header.Get("Date"))
	if err != nil {
		t.Fatal(err)
	}
	if d := date.Sub(real); d < 55*time.Minute || d > 65*time.Minute {
		t.Fatalf("Date header is %v from the real clock, want about +1h", d)
	}
	// Re-signing by the Date header's clock works, as a skew-aware client does.
	res = call(t, s, "GET", "/app", bearer(appJWT(t, app, date)), "")
	if res.status != http.StatusOK {
		t.Fatalf("JWT by GitHub's clock: status %d: %s", res.status, res.body)
	}
	// expires_at is by GitHub's clock too.
	tok := mint(t, s, app, inst, "")
	exp, err := time.Parse(time.RFC3339, tok["expires_at"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if d := exp.Sub(real); d < 115*time.Minute || d > 125*time.Minute {
		t.Fatalf("expires_at is %v from the real clock, want about +2h", d)
	}

	// GitHub's clock an hour behind: the client's iat is in GitHub's future.
	s.SetClockOffset(-time.Hour)
	res = call(t, s, "GET", "/app", bearer(appJWT(t, app, real)), "")
	if res.status != http.StatusUnauthorized || res.message(t) != msgIssuedAt {
		t.Fatalf("behind: status %d %s, want 401 %q", res.status, res.body, msgIssuedAt)
	}

	// Moving GitHub's clock past a token's expiry makes the token dead.
	s.SetClockOffset(0)
	live := mintToken(t, s, app, inst, "")
	if res := call(t, s, "GET", "/installation/repositories", "token "+live, ""); res.status != http.StatusOK {
		t.Fatalf("fresh token: status %d: %s", res.status, res.body)
	}
	s.SetClockOffset(61 * time.Minute)
	if res := call(t, s, "GET", "/installation/repositories", "token "+live, ""); res.status != http.StatusUnauthorized {
		t.Fatalf("expired token: status %d, want 401: %s", res.status, res.body)
	}
}
