// Package devtool holds what the developer tools (the benchmark and the demo) share: building
// the helper the way install.sh does, and an environment that none of the developer's own git,
// gh or helper settings leak into.
package devtool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Exe is the suffix of an executable's file name on this platform.
var Exe = map[bool]string{true: ".exe", false: ""}[runtime.GOOS == "windows"]

// Build builds the package pkg (e.g. "./cmd/git-credential-ghapp") of the module the current
// directory is in into out, trimmed and stripped as install.sh builds it; static unless cgo.
// It fails when go cannot run, when the current directory is outside a module, or when the
// build fails (with go's output folded into the message).
func Build(ctx context.Context, pkg, out string, cgo bool) error {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("cannot run go: %w", err)
	}
	mod := strings.TrimSpace(string(gomod))
	if mod == "" || mod == os.DevNull {
		return errors.New("run this from inside the git-credential-ghapp checkout")
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, pkg)
	cmd.Dir = filepath.Dir(mod)
	cmd.Env = append(os.Environ(), map[bool]string{true: "CGO_ENABLED=1", false: "CGO_ENABLED=0"}[cgo])
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building %s: %v: %s", pkg, err, strings.Join(strings.Fields(string(b)), " "))
	}
	return nil
}

// CleanEnv returns env without what could change how git, gh or the helper behave: their own
// settings (GHAPP_*, GIT_*, GH_*, GITHUB_*), XDG directories, HOME, proxies, certificate
// locations, the D-Bus session (so no OS keyring is touched), EMAIL and Go runtime tuning.
func CleanEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		up := strings.ToUpper(k)
		switch {
		case strings.HasPrefix(up, "GHAPP_"), strings.HasPrefix(up, "GIT_"), strings.HasPrefix(up, "XDG_"),
			strings.HasPrefix(up, "GH_"), strings.HasPrefix(up, "GITHUB_"), strings.HasPrefix(up, "SSL_CERT_"),
			strings.HasPrefix(up, "DBUS_"), strings.HasSuffix(up, "_PROXY"),
			up == "HOME", up == "EMAIL", up == "GODEBUG", up == "GOGC", up == "GOMAXPROCS":
			continue
		}
		out = append(out, kv)
	}
	return out
}
