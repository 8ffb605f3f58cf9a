package fakegithub

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// GitHub's 401 messages for app JWTs, verbatim as GitHub returns them.
// Sources (public issue threads quoting GitHub's responses):
//   - msgJWTDecode: backstage/backstage#12887, github/docs#33989; GitHub
//     answers it when the signature does not match the app's key
//     (octokit/auth-app.js#375, actions/create-github-app-token#153). The fake
//     also uses it for a missing or non-Bearer Authorization header and for
//     any algorithm other than RS256 (GitHub's exact wording for those is not
//     documented; the docs say only that RS256 is required).
//   - msgIssuedAt: probot/probot#967 and #1075, tibdex/github-app-token#102,
//     returned when the client's clock is ahead, i.e. iat is in GitHub's
//     future. microsoft/AL-Go#2289 reports that ~10 s of drift is enough to
//     fail, so the fake allows no leeway: iat must be <= GitHub's now (whole
//     seconds).
//   - msgExpTooFar: octokit/auth-app.js#698, rocq-prover/bot#204: exp more
//     than 10 minutes after GitHub's now (docs: "no more than 10 minutes into
//     the future"); github/docs#36558 shows exp is measured from GitHub's
//     clock, not from iat.
//   - msgExpNumeric: GitHub's wording for a missing, non-numeric or past exp.
//   - msgNoIssuer: code-corps/code-corps-api#1129.
//   - msgIntegrationNotFound: octokit/authentication-strategies.js#165,
//     actions/create-github-app-token#76 (iss names no app).
const (
	msgJWTDecode           = "A JSON web token could not be decoded"
	msgIssuedAt            = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
	msgExpNumeric          = "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
	msgExpTooFar           = "'Expiration time' claim ('exp') is too far in the future"
	msgNoIssuer            = "Missing 'issuer' claim ('iss') in assertion"
	msgIntegrationNotFound = "Integration not found"
	msgIssuerInteger       = "'Issuer' claim ('iss') must be an Integer" // see SetAppIDOnly
)

// maxJWTLifetime is how far exp may lie after GitHub's now, in seconds.
const maxJWTLifetime = 600

var (
	errNoIssuer      = errors.New("no iss claim")
	errUnknownIssuer = errors.New("unknown iss")
	errIssuerInteger = errors.New("iss is not an integer")
)

// verifyAppJWT checks an Authorization header carrying an app JWT the way
// GitHub does: RS256 only, signature against the key of the app named by
// iss, then iat and exp against GitHub's (possibly offset) clock. It returns
// the app, or GitHub's 401 message.
func (s *Server) verifyAppJWT(authorization string) (*App, string) {
	scheme, raw, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	raw = strings.TrimSpace(raw)
	if !ok || !strings.EqualFold(scheme, "Bearer") || raw == "" {
		return nil, msgJWTDecode
	}
	claims := jwt.MapClaims{}
	var app *App
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithJSONNumber(),
		jwt.WithoutClaimsValidation(), // GitHub's own time rules below
	)
	_, err := parser.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) {
		iss, ok := issuerString(claims["iss"])
		if !ok {
			return nil, errNoIssuer
		}
		if s.isAppIDOnly() && !isInteger(iss) {
			return nil, errIssuerInteger
		}
		app = s.appByIssuer(iss)
		if app == nil {
			return nil, errUnknownIssuer
		}
		return s.verificationKeys(app), nil
	})
	switch {
	case errors.Is(err, errNoIssuer):
		return nil, msgNoIssuer
	case errors.Is(err, errUnknownIssuer):
		return nil, msgIntegrationNotFound
	case errors.Is(err, errIssuerInteger):
		return nil, msgIssuerInteger
	case err != nil:
		return nil, msgJWTDecode
	}

	now := s.now()
	nowSec := now.Unix()
	iat, ok := integerClaim(claims["iat"])
	if !ok || iat > nowSec {
		return nil, msgIssuedAt
	}
	exp, ok := numericClaim(claims["exp"])
	if !ok || exp <= float64(now.UnixNano())/1e9 {
		return nil, msgExpNumeric
	}
	if exp > float64(nowSec+maxJWTLifetime) {
		return nil, msgExpTooFar
	}
	return app, ""
}

func (s *Server) isAppIDOnly() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appIDOnly
}

func isInteger(v string) bool {
	_, err := strconv.ParseInt(v, 10, 64)
	return err == nil
}

// issuerString accepts iss as a JSON string or a JSON integer.
func issuerString(v any) (string, bool) {
	switch iss := v.(type) {
	case string:
		return iss, iss != ""
	case json.Number:
		if _, err := iss.Int64(); err != nil {
			return "", false
		}
		return iss.String(), true
	}
	return "", false
}

// integerClaim accepts only a JSON integer ("must be an Integer").
func integerClaim(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}

// numericClaim accepts any finite JSON number.
func numericClaim(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}
