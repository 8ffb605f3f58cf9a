package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/git-credential-ghapp/git-credential-ghapp/internal/fakegithub"
)

// readRecipes returns the code blocks of README.md that follow a `<!-- recipe: NAME -->` line,
// by NAME. The tests run what these blocks say, so README and the tested commands cannot drift.
func readRecipes(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(moduleRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	marker := regexp.MustCompile(`^<!-- recipe: ([a-z0-9-]+) -->$`)
	lines := strings.Split(string(data), "\n")
	out := map[string]string{}
	for i := 0; i < len(lines); i++ {
		m := marker.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "```") {
			t.Fatalf("README.md:%d: the recipe marker %s is not followed by a code block", i+1, m[1])
		}
		var b strings.Builder
		for i += 2; i < len(lines) && lines[i] != "```"; i++ {
			b.WriteString(lines[i] + "\n")
		}
		out[m[1]] = b.String()
	}
	return out
}

func indentOf(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }

// yamlScripts returns, in order, the shell scripts a YAML recipe gives under any of keys: a block
// scalar (`run: |`, `command: |`, or a `- |` item of such a key) or a one-line value.
func yamlScripts(text string, keys ...string) []string {
	lines := strings.Split(text, "\n")
	var out []string
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(lines[i]), "- "))
		for _, k := range keys {
			v, ok := strings.CutPrefix(l, k+":")
			if !ok {
				continue
			}
			v = strings.TrimSpace(v)
			switch {
			case v == "|":
				block, next := blockScalar(lines, i)
				out, i = append(out, block), next-1
			case v == "":
				// A list whose item is a block scalar: `args:` then `- |`.
				if i+1 < len(lines) && strings.TrimSpace(lines[i+1]) == "- |" {
					block, next := blockScalar(lines, i+1)
					out, i = append(out, block), next-1
				}
			default:
				out = append(out, v)
			}
		}
	}
	return out
}

// blockScalar returns the lines indented under lines[at], dedented, and the index after them.
func blockScalar(lines []string, at int) (string, int) {
	base := indentOf(lines[at])
	var b strings.Builder
	cut := -1
	i := at + 1
	for ; i < len(lines); i++ {
		l := lines[i]
		if strings.TrimSpace(l) == "" {
			b.WriteString("\n")
			continue
		}
		if indentOf(l) <= base {
			break
		}
		if cut < 0 {
			cut = indentOf(l)
		}
		b.WriteString(l[min(cut, indentOf(l)):] + "\n")
	}
	return b.String(), i
}

// yamlList returns the `- item` lines under key.
func yamlList(text, key string) []string {
	lines := strings.Split(text, "\n")
	var out []string
	for i, l := range lines {
		if strings.TrimSpace(l) != key+":" {
			continue
		}
		for _, item := range lines[i+1:] {
			if indentOf(item) <= indentOf(l) || !strings.HasPrefix(strings.TrimSpace(item), "- ") {
				break
			}
			out = append(out, strings.TrimPrefix(strings.TrimSpace(item), "- "))
		}
	}
	return out
}

// yamlMap returns the `KEY: value` lines under key (quotes removed).
func yamlMap(text, key string) map[string]string {
	lines := strings.Split(text, "\n")
	out := map[string]string{}
	for i, l := range lines {
		if strings.TrimSpace(l) != key+":" {
			continue
		}
		for _, item := range lines[i+1:] {
			if indentOf(item) <= indentOf(l) {
				break
			}
			k, v, ok := strings.Cut(strings.TrimSpace(item), ": ")
			if ok {
				out[k] = unquote(strings.TrimSpace(v))
			}
		}
	}
	return out
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// ciRun is one CI job run from a recipe: its environment and the shell steps, each run as the CI
// system runs it.
type ciRun struct {
	w     *world
	ws    string            // the workspace, relative to w.dir
	env   map[string]string // the job's variables
	steps [][]string        // argv of each step (the shell and its script)
}

// recipeText makes a recipe's text run against the fake: `go install` of the helper is dropped
// (the binaries of this checkout are on PATH) and github.com is the fake's host.
func (w *world) recipeText(s string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if strings.Contains(l, "go install github.com/git-credential-ghapp/") {
			continue
		}
		b.WriteString(l)
	}
	return strings.ReplaceAll(b.String(), "github.com", w.srv.Host)
}

func (c *ciRun) run() {
	t := c.w.t
	t.Helper()
	if err := os.MkdirAll(filepath.Join(c.w.dir, c.ws), 0o755); err != nil {
		t.Fatal(err)
	}
	var extra []string
	for k, v := range c.env {
		extra = append(extra, k+"="+v)
	}
	for _, argv := range c.steps {
		cmd := execIn(c.w, c.ws, extra, argv)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("step %q: %v\n%s", argv[len(argv)-1], err, out)
		}
	}
}

// recipeWorld is the world every CI recipe runs in: app ci-bot installed on acme with the
// repositories app and lib.
func recipeWorld(t *testing.T) (*world, *fakegithub.App, string) {
	w := newWorld(t)
	app, pem := w.app("ci-bot")
	for _, r := range []string{"acme/app", "acme/lib"} {
		if err := w.srv.AddRepo(r); err != nil {
			t.Fatal(err)
		}
	}
	w.srv.Install(app, "acme", "Organization", map[string]string{"contents": "write", "metadata": "read"})
	// The CI machine: no git configuration yet, the helper's host is the fake's.
	delete(w.env, "GIT_CONFIG_GLOBAL")
	return w, app, pem
}

// checkJob checks what every CI recipe promises: both repositories cloned, every minted token
// revoked at the end, and (when auditLog is not "") an audit line per mint and revoke with the
// job's identifiers.
func checkJob(t *testing.T, w *world, ws, auditLog string, ci map[string]string) {
	t.Helper()
	for _, r := range []string{"app", "lib"} {
		if _, err := os.Stat(filepath.Join(w.dir, ws, r, "README.md")); err != nil {
			t.Errorf("acme/%s was not cloned: %v", r, err)
		}
	}
	toks := w.srv.Tokens()
	revoked := 0
	for _, tk := range toks {
		if tk.Revoked {
			revoked++
		}
	}
	if len(toks) != 2 || revoked != 2 {
		t.Errorf("%d tokens minted, %d revoked; want 2 and 2", len(toks), revoked)
	}
	if auditLog == "" {
		return
	}
	f, err := os.Open(auditLog)
	if err != nil {
		t.Fatalf("audit log: %v", err)
	}
	defer f.Close()
	events := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rec struct {
			Event string            `json:"event"`
			CI    map[string]string `json:"ci"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		events[rec.Event]++
		for k, v := range ci {
			if rec.CI[k] != v {
				t.Errorf("audit line %s: ci.%s = %q, want %q", rec.Event, k, rec.CI[k], v)
			}
		}
	}
	if events["mint"] != 2 || events["revoke"] != 2 {
		t.Errorf("audit events %v; want 2 mints and 2 revokes", events)
	}
}

func TestRecipes(t *testing.T) {
	recipes := readRecipes(t)
	for _, name := range []string{"github-actions", "gitlab-ci", "jenkins", "buildkite", "dockerfile", "docker-run", "kubernetes"} {
		if recipes[name] == "" {
			t.Fatalf("README.md has no recipe %q", name)
		}
	}

	t.Run("github-actions", func(t *testing.T) {
		w, app, _ := recipeWorld(t)
		text := w.recipeText(recipes["github-actions"])
		ci := map[string]string{"GITHUB_RUN_ID": "4242", "GITHUB_RUN_ATTEMPT": "1", "GITHUB_JOB": "build", "GITHUB_REPOSITORY": "acme/deploy"}
		runnerTemp := filepath.Join(w.dir, "runner-temp")
		expr := map[string]string{
			"${{ vars.GHAPP_APP_ID }}":         strconv.FormatInt(app.ID, 10),
			"${{ secrets.GHAPP_PRIVATE_KEY }}": string(app.PEM),
			"${{ runner.temp }}":               runnerTemp,
		}
		c := &ciRun{w: w, ws: "work/deploy", env: map[string]string{}}
		for k, v := range yamlMap(text, "env") {
			for e, val := range expr {
				v = strings.ReplaceAll(v, e, val)
			}
			if strings.Contains(v, "${{") {
				t.Fatalf("env %s: no value for %s", k, v)
			}
			c.env[k] = v
		}
		for k, v := range ci {
			c.env[k] = v
		}
		if err := os.MkdirAll(runnerTemp, 0o700); err != nil {
			t.Fatal(err)
		}
		scripts := yamlScripts(text, "run")
		if len(scripts) != 3 {
			t.Fatalf("want 3 run steps, got %d: %q", len(scripts), scripts)
		}
		for _, s := range scripts {
			// GitHub's default shell on Linux runners.
			c.steps = append(c.steps, []string{"bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", s})
		}
		c.run()
		checkJob(t, w, c.ws, filepath.Join(runnerTemp, "ghapp-audit.jsonl"), ci)
	})

	t.Run("gitlab-ci", func(t *testing.T) {
		w, app, pem := recipeWorld(t)
		text := w.recipeText(recipes["gitlab-ci"])
		ws := "builds/acme/deploy"
		ci := map[string]string{"CI_JOB_ID": "9001", "CI_PIPELINE_ID": "77", "CI_PROJECT_PATH": "acme/deploy"}
		c := &ciRun{w: w, ws: ws, env: map[string]string{
			// The project's CI/CD variables; GHAPP_PRIVATE_KEY_FILE is of type File.
			"GHAPP_APP_ID": strconv.FormatInt(app.ID, 10), "GHAPP_PRIVATE_KEY_FILE": pem,
			"CI_PROJECT_DIR": filepath.Join(w.dir, ws),
		}}
		for k, v := range ci {
			c.env[k] = v
		}
		for k, v := range yamlMap(text, "variables") {
			c.env[k] = os.Expand(v, func(name string) string { return c.env[name] })
		}
		// GitLab runs before_script and script in one shell, after_script in another.
		main := append(yamlList(text, "before_script"), yamlList(text, "script")...)
		after := yamlList(text, "after_script")
		if len(main) != 4 || len(after) != 1 {
			t.Fatalf("script lines %q, after_script %q", main, after)
		}
		c.steps = [][]string{
			{"bash", "-c", "set -eo pipefail\n" + strings.Join(main, "\n")},
			{"bash", "-c", strings.Join(after, "\n")},
		}
		c.run()
		checkJob(t, w, ws, filepath.Join(w.dir, ws, "ghapp-audit.jsonl"), ci)
	})

	t.Run("jenkins", func(t *testing.T) {
		w, app, pem := recipeWorld(t)
		text := w.recipeText(recipes["jenkins"])
		ws := "jenkins/workspace/deploy"
		ci := map[string]string{"BUILD_URL": "https://jenkins.example.com/job/deploy/12/", "JOB_NAME": "deploy", "BUILD_NUMBER": "12"}
		jenkins := map[string]string{"WORKSPACE": filepath.Join(w.dir, ws), "WORKSPACE_TMP": filepath.Join(w.dir, ws+"@tmp")}
		c := &ciRun{w: w, ws: ws, env: map[string]string{}}
		for k, v := range jenkins {
			c.env[k] = v
		}
		for k, v := range ci {
			c.env[k] = v
		}
		envLine := regexp.MustCompile(`^\s+([A-Z_0-9]+)\s+= (.+)$`)
		for _, l := range strings.Split(text, "\n") {
			m := envLine.FindStringSubmatch(l)
			if m == nil {
				continue
			}
			v := m[2]
			switch {
			case v == "credentials('github-app-key')":
				v = pem // a "Secret file" credential: the path of a temporary copy
			case strings.HasPrefix(v, `"`):
				v = os.Expand(unquote(v), func(name string) string { return jenkins[name] })
			default:
				v = unquote(v)
			}
			c.env[m[1]] = v
		}
		c.env["GHAPP_APP_ID"] = strconv.FormatInt(app.ID, 10)
		// sh '''...''' blocks and sh '...' lines, in order; Jenkins runs each with sh -xe.
		shStep := regexp.MustCompile(`(?s)\bsh '''(.*?)'''|\bsh '([^'\n]*)'`)
		for _, m := range shStep.FindAllStringSubmatch(text, -1) {
			c.steps = append(c.steps, []string{"sh", "-xe", "-c", m[1] + m[2]})
		}
		if len(c.steps) != 2 {
			t.Fatalf("want 2 sh steps, got %q", c.steps)
		}
		c.run()
		checkJob(t, w, ws, filepath.Join(w.dir, ws, "ghapp-audit.jsonl"), ci)
	})

	t.Run("buildkite", func(t *testing.T) {
		w, app, pem := recipeWorld(t)
		text := w.recipeText(recipes["buildkite"])
		ws := "buildkite/builds/deploy"
		ci := map[string]string{"BUILDKITE_BUILD_ID": "0190-abc", "BUILDKITE_JOB_ID": "0190-def", "BUILDKITE_PIPELINE_SLUG": "deploy"}
		// The agent's `buildkite-agent secret get NAME`, answered from the app's key.
		agent := filepath.Join(w.dir, "agent-bin")
		writeFile(t, filepath.Join(agent, "buildkite-agent"), []byte("#!/bin/sh\n[ \"$1 $2 $3\" = \"secret get GHAPP_PRIVATE_KEY\" ] || exit 1\ncat '"+pem+"'\n"))
		if err := os.Chmod(filepath.Join(agent, "buildkite-agent"), 0o755); err != nil {
			t.Fatal(err)
		}
		c := &ciRun{w: w, ws: ws, env: yamlMap(text, "env")}
		c.env["GHAPP_APP_ID"] = strconv.FormatInt(app.ID, 10)
		c.env["PATH"] = agent + string(os.PathListSeparator) + w.env["PATH"]
		for k, v := range ci {
			c.env[k] = v
		}
		scripts := yamlScripts(text, "command")
		if len(scripts) != 1 {
			t.Fatalf("want one command, got %q", scripts)
		}
		c.steps = [][]string{{"bash", "-e", "-c", scripts[0]}} // the agent's default shell
		c.run()
		checkJob(t, w, ws, filepath.Join(w.dir, ws, "ghapp-audit.jsonl"), ci)
	})

	t.Run("docker", func(t *testing.T) {
		testDockerRecipe(t, recipes["dockerfile"], recipes["docker-run"])
	})
	t.Run("kubernetes", func(t *testing.T) {
		testKubernetesRecipe(t, recipes["kubernetes"])
	})
}
