package route

import (
	"fmt"
	"slices"
	"strings"
)

// ParsePermissions reads a list such as "contents:read,metadata:read" (also "contents=read",
// separated by commas or spaces) into the map GitHub's token request takes. Names are GitHub's
// permission names (letters, digits and '_'); levels are read, write or admin, and for a
// permission GitHub describes, only a level GitHub accepts for it (workflows is write-only,
// organization_plan read-only, admin exists for four permissions: see permissionLevels). A name
// GitHub's description does not have yet is passed on for GitHub to judge. An empty list is nil.
func ParsePermissions(s string) (map[string]string, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	if len(fields) == 0 {
		return nil, nil
	}
	perms := make(map[string]string, len(fields))
	for _, f := range fields {
		name, level, ok := strings.Cut(f, ":")
		if !ok {
			name, level, ok = strings.Cut(f, "=")
		}
		name, level = strings.ToLower(strings.TrimSpace(name)), strings.ToLower(strings.TrimSpace(level))
		if !ok || !validPermissionName(name) {
			return nil, fmt.Errorf("bad permission %q: write NAME:LEVEL, e.g. contents:read", truncate(f))
		}
		switch level {
		case "read", "write", "admin":
		default:
			return nil, fmt.Errorf("bad permission level %q for %s: use read, write or admin", truncate(level), name)
		}
		if levels, known := permissionLevels()[name]; known && !slices.Contains(levels, level) {
			return nil, fmt.Errorf("GitHub has no %s:%s permission: %s takes only %s", name, level, name, strings.Join(levels, " or "))
		}
		if prev, dup := perms[name]; dup && prev != level {
			return nil, fmt.Errorf("permission %s is given twice (%s and %s)", name, prev, level)
		}
		perms[name] = level
	}
	return perms, nil
}

func validPermissionName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
