package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth/keystore"
)

// version is set at build time by install.sh and ghapp-release (-ldflags "-X main.version=..."),
// from the git tag.
var version = ""

// buildVersion returns the version stamped at build time, else the module version or the VCS
// revision Go recorded, else "devel".
func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "devel-" + s.Value[:12]
			}
		}
	}
	return "devel"
}

func userAgent() string { return "git-credential-ghapp/" + buildVersion() }

func runVersion(_ context.Context, e *env, _ *options, args []string) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintln(e.stdout, "usage: git-credential-ghapp version\n\nPrints the version, the Go version and the platform it was built for, and the\nkey stores --signer can sign in.")
		return exitOK
	}
	fmt.Fprintf(e.stdout, "git-credential-ghapp %s (%s, %s/%s)\n", buildVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(e.stdout, "signer backends: %s (--signer SCHEME:...); keys from a file, GHAPP_PRIVATE_KEY or the OS keyring\n", strings.Join(keystore.Backends(), ", "))
	return exitOK
}
