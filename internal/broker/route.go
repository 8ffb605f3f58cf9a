package broker

import (
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/route"
)

// The names below live in package route, which decides what a request asks for and whether the
// cache answers it; they are repeated here so that callers of the broker need not import both.

// Scope says how much of an installation a token covers (see route.Scope).
type Scope = route.Scope

// Target is what a request names (see route.Target).
type Target = route.Target

// The scopes (see route.ScopeAuto, route.ScopeRepo and route.ScopeInstallation).
const (
	ScopeAuto         = route.ScopeAuto
	ScopeRepo         = route.ScopeRepo
	ScopeInstallation = route.ScopeInstallation
)

// DefaultMinLifetime is route.DefaultMinLifetime.
const DefaultMinLifetime = route.DefaultMinLifetime

// ParseScope is route.ParseScope.
func ParseScope(s string) (Scope, error) { return route.ParseScope(s) }

// ParseTarget is route.ParseTarget.
func ParseTarget(s string) (Target, error) { return route.ParseTarget(s) }

// TargetFromPath is route.TargetFromPath.
func TargetFromPath(path string) (Target, error) { return route.TargetFromPath(path) }

// ParsePermissions is route.ParsePermissions.
func ParsePermissions(s string) (map[string]string, error) { return route.ParsePermissions(s) }
