//go:build !windows

package cache

import (
	"path/filepath"
	"strings"
)

// home is $HOME, or / without one (as github.com/adrg/xdg has it).
func home(getenv func(string) string) string {
	if h := getenv("HOME"); h != "" {
		return h
	}
	return "/"
}

// expandHome replaces a leading ~ or $HOME in p by the home directory.
func expandHome(p string, getenv func(string) string) string {
	switch {
	case p == "":
		return p
	case p[0] == '~':
		return filepath.Join(home(getenv), p[1:])
	case strings.HasPrefix(p, "$HOME"):
		return filepath.Join(home(getenv), p[len("$HOME"):])
	}
	return p
}
