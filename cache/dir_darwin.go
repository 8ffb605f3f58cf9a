package cache

import "path/filepath"

// platformCacheHome is macOS's per-user cache directory: ~/Library/Caches.
func platformCacheHome() string { return filepath.Join(home(), "Library", "Caches") }
