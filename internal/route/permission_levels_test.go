package route

import (
	"strings"
	"testing"
)

// TestImpossiblePermissionLevels: levels GitHub's REST description does not allow for a
// permission are refused before any request; the levels it allows pass.
func TestImpossiblePermissionLevels(t *testing.T) {
	for in, want := range map[string]string{
		"workflows:read":                     "GitHub has no workflows:read permission: workflows takes only write",
		"profile:read":                       "GitHub has no profile:read permission: profile takes only write",
		"organization_plan:write":            "GitHub has no organization_plan:write permission: organization_plan takes only read",
		"organization_events:write":          "GitHub has no organization_events:write permission: organization_events takes only read",
		"contents:admin":                     "GitHub has no contents:admin permission: contents takes only read or write",
		"metadata:read,administration:admin": "GitHub has no administration:admin permission: administration takes only read or write",
	} {
		if _, err := ParsePermissions(in); err == nil || err.Error() != want {
			t.Errorf("ParsePermissions(%q) = %v; want %q", in, err, want)
		}
	}
	for _, ok := range []string{"workflows:write", "organization_plan:read", "repository_projects:admin", "organization_projects:admin",
		"organization_custom_properties:admin", "enterprise_custom_properties_for_organizations:admin", "contents:write,metadata:read",
		"some_future_permission:admin"} {
		if _, err := ParsePermissions(ok); err != nil {
			t.Errorf("ParsePermissions(%q): %v", ok, err)
		}
	}
	// Exactly four permissions take admin, and every level in the table is one GitHub knows.
	var admin []string
	for name, levels := range permissionLevels() {
		for _, l := range levels {
			if l == "admin" {
				admin = append(admin, name)
			}
			if l != "read" && l != "write" && l != "admin" {
				t.Errorf("%s has level %q", name, l)
			}
		}
	}
	if len(admin) != 4 {
		t.Errorf("admin levels for %s; GitHub has four", strings.Join(admin, ", "))
	}
}
