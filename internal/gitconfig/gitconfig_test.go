package gitconfig

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// isolate keeps git away from the developer's configuration.
func isolate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(dir, "global"))
	t.Setenv("HOME", dir)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, ".config"))
	return dir
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func entries(t *testing.T, g Git, loc Location) []Entry {
	t.Helper()
	es, err := g.Entries(loc, CredentialPattern, false)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

const before = `[user]
	name = Someone
[credential]
	helper = cache
`

func TestSetupTwiceThenRemove(t *testing.T) {
	dir := isolate(t)
	file := filepath.Join(dir, "config")
	if err := os.WriteFile(file, []byte(before), 0o600); err != nil {
		t.Fatal(err)
	}
	g, loc := Git{}, File(file)
	h := Helper{URL: "https://ghe.example:8443", HostURL: "https://ghe.example:8443", Command: "ghapp --app-id 7 --key-file '/a b/7.pem'"}

	changes := h.SetupChanges(entries(t, g, loc))
	if len(changes) != 4 {
		t.Fatalf("changes on a fresh file = %v, want 4", changes)
	}
	if err := g.Apply(loc, changes); err != nil {
		t.Fatal(err)
	}
	first := read(t, file)
	want := before + `[credential "https://ghe.example:8443"]
	helper = 
	helper = ghapp --app-id 7 --key-file '/a b/7.pem'
	useHttpPath = true
	ghappSetUseHttpPath = true
`
	if first != want {
		t.Fatalf("config after setup:\n%s\nwant:\n%s", first, want)
	}

	// A second setup plans nothing, so the file stays byte for byte the same.
	if again := h.SetupChanges(entries(t, g, loc)); again != nil {
		t.Fatalf("second setup plans %v", again)
	}

	// git now asks only our helper for the host (the reset drops "cache"), and still asks
	// "cache" for other hosts.
	got := HelpersFor(entries(t, g, loc), "https://ghe.example:8443/acme/app.git")
	if len(got) != 1 || got[0].Value != h.Command {
		t.Fatalf("helpers for the host = %v", got)
	}
	if got := HelpersFor(entries(t, g, loc), "https://other.example/x/y"); len(got) != 1 || got[0].Value != "cache" {
		t.Fatalf("helpers for another host = %v", got)
	}

	rm := h.RemoveChanges(entries(t, g, loc))
	if len(rm) != 3 {
		t.Fatalf("remove changes = %v", rm)
	}
	if err := g.Apply(loc, rm); err != nil {
		t.Fatal(err)
	}
	if after := read(t, file); after != before {
		t.Fatalf("config after remove:\n%q\nwant the original:\n%q", after, before)
	}
	if again := h.RemoveChanges(entries(t, g, loc)); again != nil {
		t.Fatalf("second remove plans %v", again)
	}
}

func TestSetupReplacesOtherHelperOfTheSameKeyAndUpdatesOurs(t *testing.T) {
	dir := isolate(t)
	g, loc := Git{}, Global()
	if err := g.Apply(loc, []Change{
		{Args: []string{"--add", "credential.https://github.com.helper", "osxkeychain"}},
		{Args: []string{"credential.https://github.com.usehttppath", "false"}},
	}); err != nil {
		t.Fatal(err)
	}
	h := Helper{URL: "https://github.com", HostURL: "https://github.com", Command: "ghapp --app-id 1"}
	if err := g.Apply(loc, h.SetupChanges(entries(t, g, loc))); err != nil {
		t.Fatal(err)
	}
	// git appends the added value at the end of the section and replaces values in place; what
	// matters is the order of the helper values.
	want := "[credential \"https://github.com\"]\n\thelper = \n\tuseHttpPath = true\n\thelper = ghapp --app-id 1\n\tghappSetUseHttpPath = true\n"
	if got := read(t, filepath.Join(dir, "global")); got != want {
		t.Fatalf("global config:\n%q\nwant\n%q", got, want)
	}
	// A changed command (another key path) replaces ours rather than adding a second helper.
	h.Command = "ghapp --app-id 1 --key-file /k.pem"
	changes := h.SetupChanges(entries(t, g, loc))
	if len(changes) != 2 {
		t.Fatalf("changes = %v, want the two helper lines only", changes)
	}
	if err := g.Apply(loc, changes); err != nil {
		t.Fatal(err)
	}
	vals := values(entries(t, g, loc), "https://github.com", "helper")
	if !slices.Equal(vals, []string{"", "ghapp --app-id 1 --key-file /k.pem"}) {
		t.Fatalf("helper values = %q", vals)
	}
}

func TestRemoveKeepsWhatIsNotOurs(t *testing.T) {
	dir := isolate(t)
	file := filepath.Join(dir, "config")
	g, loc := Git{}, File(file)
	// Someone added their own helper after setup, and another for a path on the host.
	if err := g.Apply(loc, []Change{
		{Args: []string{"--add", "credential.https://h.example.helper", ""}},
		{Args: []string{"--add", "credential.https://h.example.helper", "ghapp --app-id 1"}},
		{Args: []string{"--add", "credential.https://h.example.helper", "store"}},
		{Args: []string{"--add", "credential.https://h.example.helper", "'/opt/my tools/git-credential-ghapp' --app-id 2"}},
		{Args: []string{"credential.https://h.example.useHttpPath", "true"}},
	}); err != nil {
		t.Fatal(err)
	}
	h := Helper{URL: "https://h.example", HostURL: "https://h.example", Command: "ghapp --app-id 1"}
	rm := h.RemoveChanges(entries(t, g, loc))
	if len(rm) != 2 {
		t.Fatalf("remove = %v, want only our helper values removed (useHttpPath serves store too)", rm)
	}
	if err := g.Apply(loc, rm); err != nil {
		t.Fatal(err)
	}
	es := entries(t, g, loc)
	if vals := values(es, "https://h.example", "helper"); !slices.Equal(vals, []string{"", "store"}) {
		t.Fatalf("helper values after remove = %q", vals)
	}
	if !lastIsTrue(es, "https://h.example", "usehttppath") {
		t.Fatal("useHttpPath was removed although another helper uses it")
	}

	// A useHttpPath the user set without our helper is never removed.
	h2 := Helper{URL: "https://other.example", HostURL: "https://other.example", Command: "ghapp --app-id 1"}
	if rm := h2.RemoveChanges([]Entry{{Key: "credential.https://other.example.usehttppath", Value: "true"}}); rm != nil {
		t.Fatalf("remove without our helper = %v", rm)
	}
}

func TestOwnerScopedSetupKeepsHostPathSetting(t *testing.T) {
	isolate(t)
	g, loc := Git{}, Global()
	a := Helper{URL: "https://github.com/acme", HostURL: "https://github.com", Command: "ghapp --app-id 1"}
	b := Helper{URL: "https://github.com/other", HostURL: "https://github.com", Command: "ghapp --app-id 2"}
	for _, h := range []Helper{a, b} {
		if err := g.Apply(loc, h.SetupChanges(entries(t, g, loc))); err != nil {
			t.Fatal(err)
		}
	}
	es := entries(t, g, loc)
	if got := HelpersFor(es, "https://github.com/acme/app.git"); len(got) != 1 || got[0].Value != a.Command {
		t.Fatalf("helpers for acme = %v", got)
	}
	if got := HelpersFor(es, "https://github.com/acmesoft/app.git"); len(got) != 0 {
		t.Fatalf("helpers for acmesoft = %v (a path prefix must end at a /)", got)
	}
	// Removing acme's setup keeps useHttpPath: the setup for other still needs it. Removing
	// that one as well then takes useHttpPath away.
	rm := a.RemoveChanges(es)
	if len(rm) != 1 {
		t.Fatalf("remove acme = %v", rm)
	}
	if err := g.Apply(loc, rm); err != nil {
		t.Fatal(err)
	}
	es = entries(t, g, loc)
	if !lastIsTrue(es, "https://github.com", "usehttppath") {
		t.Fatal("useHttpPath went while other's setup needs it")
	}
	rm = b.RemoveChanges(es)
	if len(rm) != 3 {
		t.Fatalf("remove the last setup = %v", rm)
	}
	if err := g.Apply(loc, rm); err != nil {
		t.Fatal(err)
	}
	if es := entries(t, g, loc); len(es) != 0 {
		t.Fatalf("entries left after removing both setups: %v", es)
	}
}

func TestHelpersForFollowsResetsAndOrder(t *testing.T) {
	es := []Entry{
		{Key: "credential.helper", Value: "osxkeychain"},
		{Key: "credential.https://github.com.helper", Value: "cache"},
		{Key: "credential.https://github.com/acme.helper", Value: ""},
		{Key: "credential.https://github.com/acme.helper", Value: "ghapp --app-id 1"},
		{Key: "credential.https://*.example.com.helper", Value: "wild"},
		{Key: "credential.https://github.com.username", Value: "me"},
	}
	names := func(es []Entry) []string {
		var v []string
		for _, e := range es {
			v = append(v, e.Value)
		}
		return v
	}
	for _, c := range []struct {
		url  string
		want []string
	}{
		{"https://github.com/acme/app.git", []string{"ghapp --app-id 1"}},
		{"https://github.com/", []string{"osxkeychain", "cache"}},
		{"https://github.com:443/x", []string{"osxkeychain", "cache"}},
		{"https://github.com:8443/x", []string{"osxkeychain"}},
		{"http://github.com/acme/app", []string{"osxkeychain"}},
		{"https://git.example.com/a", []string{"osxkeychain", "wild"}},
		{"https://a.git.example.com/a", []string{"osxkeychain"}},
	} {
		if got := names(HelpersFor(es, c.url)); !slices.Equal(got, c.want) {
			t.Errorf("HelpersFor(%s) = %q, want %q", c.url, got, c.want)
		}
	}
}

func TestIsOwnHelper(t *testing.T) {
	for v, want := range map[string]bool{
		"ghapp --app-id 1": true,
		"ghapp":            true,
		"/usr/local/bin/git-credential-ghapp --app-id 1":  true,
		"'/opt/my tools/git-credential-ghapp' --app-id 1": true,
		`"/opt/my tools/git-credential-ghapp"`:            true,
		`'C:\bin\git-credential-ghapp.exe' --app-id 1`:    true,
		`C:/bin/git-credential-ghapp.exe --app-id 1`:      true,
		`C:\bin\git-credential-ghapp.exe`:                 false, // the shell git runs it with eats the backslashes
		"git-credential-ghapp --app-id 1":                 false, // git would run "git credential-git-credential-ghapp"
		"/usr/bin/not-git-credential-ghapp":               false,
		"ghappy":                                          false,
		"store":                                           false,
		"":                                                false,
		"!gh auth git-credential":                         false,
	} {
		if got := IsOwnHelper(v); got != want {
			t.Errorf("IsOwnHelper(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestSplitCommand(t *testing.T) {
	for in, want := range map[string][]string{
		"ghapp --app-id 1":              {"ghapp", "--app-id", "1"},
		"  a\tb  ":                      {"a", "b"},
		`ghapp --key-file '/a b/k.pem'`: {"ghapp", "--key-file", "/a b/k.pem"},
		`x "a \"b\" \$c \n" d`:          {"x", `a "b" $c \n`, "d"},
		`a\ b 'it'\''s'`:                {"a b", "it's"},
		`''`:                            {""},
		"":                              nil,
	} {
		got, err := SplitCommand(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("SplitCommand(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`a 'b`, `a "b`} {
		if _, err := SplitCommand(bad); err == nil {
			t.Errorf("SplitCommand(%q) succeeded", bad)
		}
	}
	// What Quote writes, SplitCommand reads back.
	for _, s := range []string{"plain", "two words", "it's", "", `back\slash`, `"dq"`, "$HOME"} {
		if got, err := SplitCommand("x " + Quote(s)); err != nil || !slices.Equal(got, []string{"x", s}) {
			t.Errorf("SplitCommand(Quote(%q)) = %q, %v", s, got, err)
		}
	}
}

func TestQuoteAndCommand(t *testing.T) {
	for in, want := range map[string]string{
		"":                 "''",
		"plain-1.2/x:y@z":  "plain-1.2/x:y@z",
		"two words":        "'two words'",
		"it's":             `'it'\''s'`,
		"ghapp --app-id 1": "'ghapp --app-id 1'",
		"$HOME":            "'$HOME'",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
	c := Change{Args: []string{"--add", "credential.https://github.com.helper", "ghapp --app-id 1"}}
	if got, want := c.Command(Global()), "git config --global --add credential.https://github.com.helper 'ghapp --app-id 1'"; got != want {
		t.Fatalf("Command = %s, want %s", got, want)
	}
}

func TestEntriesMissingFileAndErrors(t *testing.T) {
	dir := isolate(t)
	g := Git{Dir: dir}
	es, err := g.Entries(File(filepath.Join(dir, "nope")), CredentialPattern, false)
	if err != nil || es != nil {
		t.Fatalf("missing file: %v, %v", es, err)
	}
	es, err = g.Entries(Global(), CredentialPattern, false)
	if err != nil || es != nil {
		t.Fatalf("missing global file: %v, %v", es, err)
	}
	_, err = g.Entries(Local(), CredentialPattern, false)
	var ge *Error
	if !errors.As(err, &ge) || !strings.Contains(err.Error(), "inside a git repository") {
		t.Fatalf("--local outside a repository: %v", err)
	}
	if err := g.Apply(Effective(), []Change{{Args: []string{"a.b", "c"}}}); err == nil {
		t.Fatal("Apply without a location succeeded")
	}
}

func TestEntriesWithOriginAndBareBooleans(t *testing.T) {
	dir := isolate(t)
	file := filepath.Join(dir, "config")
	if err := os.WriteFile(file, []byte("[credential \"https://h\"]\n\tuseHttpPath\n\thelper = a=b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	es, err := Git{}.Entries(File(file), CredentialPattern, true)
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Key: "credential.https://h.usehttppath", NoValue: true, Origin: "file:" + file},
		{Key: "credential.https://h.helper", Value: "a=b", Origin: "file:" + file},
	}
	if !slices.Equal(es, want) {
		t.Fatalf("entries = %+v\nwant %+v", es, want)
	}
	if !lastIsTrue(es, "https://h", "usehttppath") {
		t.Fatal("a bare boolean is true")
	}
	v, set, err := Git{}.URLBool("credential.useHttpPath", "https://nowhere.example/")
	if err != nil || set || v {
		t.Fatalf("URLBool of an unset key = %v %v %v", v, set, err)
	}
}

func TestParseBool(t *testing.T) {
	for in, want := range map[string]bool{"true": true, "Yes": true, "on": true, "1": true, "2": true, "false": false, "no": false, "0": false, "": false, "maybe": false} {
		if ParseBool(in) != want {
			t.Errorf("ParseBool(%q) != %v", in, want)
		}
	}
}

// setup --remove takes out exactly what setup wrote: a useHttpPath line the user had before
// stays, and so does this tool's helper line for another app id under the same URL.
func TestRemoveExactlyWhatSetupWrote(t *testing.T) {
	dir := isolate(t)
	file := filepath.Join(dir, "config")
	g, loc := Git{}, File(file)
	const mine = "[credential \"https://h.example\"]\n\tuseHttpPath = true\n"
	if err := os.WriteFile(file, []byte(mine), 0o600); err != nil {
		t.Fatal(err)
	}
	h := Helper{URL: "https://h.example", HostURL: "https://h.example", Command: "ghapp --app-id 1", AppID: "1"}
	if err := g.Apply(loc, h.SetupChanges(entries(t, g, loc))); err != nil {
		t.Fatal(err)
	}
	if err := g.Apply(loc, h.RemoveChanges(entries(t, g, loc))); err != nil {
		t.Fatal(err)
	}
	if got := read(t, file); got != mine {
		t.Fatalf("after setup and remove:\n%q\nwant the user's file:\n%q", got, mine)
	}

	// Another app's helper line (added by hand under the same key) survives the removal of app 1.
	other := "/opt/git-credential-ghapp --app-id=2"
	if err := g.Apply(loc, h.SetupChanges(entries(t, g, loc))); err != nil {
		t.Fatal(err)
	}
	if err := g.Apply(loc, []Change{{Args: []string{"--add", "credential.https://h.example.helper", other}}}); err != nil {
		t.Fatal(err)
	}
	if ids := h.OwnAppIDs(entries(t, g, loc)); !slices.Equal(ids, []string{"1", "2"}) {
		t.Fatalf("OwnAppIDs = %q", ids)
	}
	if err := g.Apply(loc, h.RemoveChanges(entries(t, g, loc))); err != nil {
		t.Fatal(err)
	}
	es := entries(t, g, loc)
	if vals := values(es, "https://h.example", "helper"); !slices.Equal(vals, []string{"", other}) {
		t.Fatalf("helper values after removing app 1 = %q", vals)
	}
	if !lastIsTrue(es, "https://h.example", "usehttppath") {
		t.Fatal("useHttpPath went")
	}
}

// Every child this tool starts gets an environment without its variables: a real child (sh)
// prints what it received.
func TestChildEnvDropsOurVariables(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GHAPP_PRIVATE_KEY", "-----BEGIN RSA PRIVATE KEY----- secret")
	t.Setenv("GHAPP_PRIVATE_KEY_FILE", "/k.pem")
	t.Setenv("ghapp_trace", "1")
	t.Setenv("KEEP_ME", "yes")
	cmd := exec.Command(sh, "-c", "env")
	cmd.Env = ChildEnv(os.Environ())
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToUpper(string(out)), "GHAPP_") || strings.Contains(string(out), "BEGIN") {
		t.Fatalf("the child saw our variables:\n%s", out)
	}
	if !strings.Contains(string(out), "KEEP_ME=yes") {
		t.Fatalf("the child lost the rest of the environment:\n%s", out)
	}
}

func TestHelperAppID(t *testing.T) {
	for v, want := range map[string]string{
		"ghapp --app-id 1001 --hostname h":        "1001",
		"ghapp --hostname h --app-id=Iv1.abc":     "Iv1.abc",
		"'/opt/x/git-credential-ghapp' -app-id 7": "7",
		"ghapp":            "",
		"store --app-id 3": "",
	} {
		if got := HelperAppID(v); got != want {
			t.Errorf("HelperAppID(%q) = %q, want %q", v, got, want)
		}
	}
}
