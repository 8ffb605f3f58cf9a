// Package testhome holds what the end-to-end test worlds (internal/e2e, action, the full
// helper's scenarios, internal/keystoretest) set up the same way: the tools they need, and a
// throwaway home for git and the helper with nothing of the developer's own settings.
package testhome

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Need returns the path of tool, or skips the test when it is missing; under CI=true, where
// .ci/run installs every tool the tests use, it fails instead of skipping silently. how says
// where the tool comes from.
func Need(t testing.TB, tool, how string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (%s); CI must have it", tool, how)
		}
		t.Skipf("%s is not installed (%s)", tool, how)
	}
	return p
}

// Env makes dir/home and dir/run and returns the environment that confines git and the helper to
// them: HOME, the XDG directories, a global git config in that home and no system one, no
// terminal prompt, and caFile (the fake GitHub's CA) as the only CA git and Go trust.
func Env(dir, caFile string) (map[string]string, error) {
	home, run := filepath.Join(dir, "home"), filepath.Join(dir, "run")
	for _, d := range []string{home, run} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	return map[string]string{
		"HOME":                home,
		"XDG_RUNTIME_DIR":     run,
		"XDG_CACHE_HOME":      filepath.Join(home, ".cache"),
		"XDG_CONFIG_HOME":     filepath.Join(home, ".config"),
		"GIT_CONFIG_GLOBAL":   filepath.Join(home, ".gitconfig"),
		"GIT_CONFIG_NOSYSTEM": "1",
		"GIT_TERMINAL_PROMPT": "0",
		"GIT_SSL_CAINFO":      caFile,
		"SSL_CERT_FILE":       caFile,
	}, nil
}
