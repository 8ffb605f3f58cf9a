package cache

import "path/filepath"

// platformCacheHome is macOS's per-user cache directory: ~/Library/Caches.
func platformCacheHome(getenv func(string) string) string {
	return filepath.Join(home(getenv), "Library", "Caches")
}
