package route

import (
	"reflect"
	"strings"
	"testing"
)

func TestTargetFromPath(t *testing.T) {
	good := map[string]Target{
		"":                       {},
		"acme":                   {Owner: "acme"},
		"acme/app":               {Owner: "acme", Repo: "app"},
		"acme/app.git":           {Owner: "acme", Repo: "app"},
		"/acme/app.git/":         {Owner: "acme", Repo: "app"},
		"acme/app.git/info/lfs":  {Owner: "acme", Repo: "app"},
		"Acme-Inc/my_repo.v2":    {Owner: "Acme-Inc", Repo: "my_repo.v2"},
		"acme/.github":           {Owner: "acme", Repo: ".github"},
		"acme/app/info/refs?x=1": {Owner: "acme", Repo: "app"},
		// Enterprise Managed Users and GHE.com namespaces: NAME_SHORTCODE.
		"octo_acme/app.git": {Owner: "octo_acme", Repo: "app"},
		"octo_acme":         {Owner: "octo_acme"},
	}
	for path, want := range good {
		got, err := TargetFromPath(path)
		if err != nil || got != want {
			t.Errorf("TargetFromPath(%q) = %+v, %v; want %+v", path, got, err, want)
		}
	}
	for _, path := range []string{"ac me/app", "acme/..", "acme/.", "../etc/passwd", "acme/a%2Fb", "acme/app\x00", "a\\b/app", "a%2Fb/app", "_/..", "octo_acme\n/app", "acme/" + strings.Repeat("x", 101)} {
		if got, err := TargetFromPath(path); err == nil {
			t.Errorf("TargetFromPath(%q) = %+v; want an error", path, got)
		}
	}
}

func TestParseTarget(t *testing.T) {
	for in, want := range map[string]Target{
		"acme/app":                          {Owner: "acme", Repo: "app"},
		"https://github.com/acme/app.git":   {Owner: "acme", Repo: "app"},
		"https://ghe.example.com:8443/acme": {Owner: "acme"},
		"https://github.com":                {},
	} {
		if got, err := ParseTarget(in); err != nil || got != want {
			t.Errorf("ParseTarget(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
}

func TestParsePermissions(t *testing.T) {
	got, err := ParsePermissions(" contents:read, metadata=READ  issues:write ")
	want := map[string]string{"contents": "read", "metadata": "read", "issues": "write"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ParsePermissions = %v, %v", got, err)
	}
	if got, err := ParsePermissions(""); got != nil || err != nil {
		t.Fatalf("empty list = %v, %v; want nil", got, err)
	}
	for _, bad := range []string{"contents", "contents:owner", ":read", "con tents:read", "contents:read,contents:write", "a-b:read"} {
		if _, err := ParsePermissions(bad); err == nil {
			t.Errorf("ParsePermissions(%q) accepted", bad)
		}
	}
}

func TestParseScope(t *testing.T) {
	for in, want := range map[string]Scope{"": ScopeAuto, "repo": ScopeRepo, "Installation": ScopeInstallation} {
		if got, err := ParseScope(in); err != nil || got != want {
			t.Errorf("ParseScope(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseScope("org"); err == nil {
		t.Error("ParseScope(org) accepted")
	}
}
