//go:build !darwin && !windows

package cache

import "path/filepath"

// platformCacheHome is the XDG default: ~/.cache.
func platformCacheHome() string { return filepath.Join(home(), ".cache") }
