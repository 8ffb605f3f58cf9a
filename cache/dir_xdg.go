//go:build !darwin && !windows

package cache

import "path/filepath"

// platformCacheHome is the XDG default: ~/.cache.
func platformCacheHome(getenv func(string) string) string {
	return filepath.Join(home(getenv), ".cache")
}
