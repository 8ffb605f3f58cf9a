//go:build windows

package cache

import (
	"path/filepath"
	"strings"

	"golang.org/x/sys/windows"
)

// platformCacheHome is %LOCALAPPDATA%\cache, where github.com/adrg/xdg puts the XDG cache
// directory on Windows: the known folder first, then the environment, then the profile's
// AppData\Local.
func platformCacheHome(getenv func(string) string) string {
	local := knownFolder(windows.FOLDERID_LocalAppData, "LOCALAPPDATA", getenv)
	if local == "" {
		local = filepath.Join(home(getenv), "AppData", "Local")
	}
	return filepath.Join(local, "cache")
}

// home is the user's profile directory.
func home(getenv func(string) string) string {
	return knownFolder(windows.FOLDERID_Profile, "USERPROFILE", getenv)
}

// knownFolder returns the folder id, or the environment variable env when Windows does not know it.
func knownFolder(id *windows.KNOWNFOLDERID, env string, getenv func(string) string) string {
	for _, flag := range []uint32{windows.KF_FLAG_DEFAULT, windows.KF_FLAG_DEFAULT_PATH} {
		if p, _ := windows.KnownFolderPath(id, flag|windows.KF_FLAG_DONT_VERIFY); p != "" {
			return p
		}
	}
	return getenv(env)
}

// expandHome replaces a leading %USERPROFILE% in p by the profile directory.
func expandHome(p string, getenv func(string) string) string {
	if !strings.HasPrefix(p, "%USERPROFILE%") {
		return p
	}
	if h := home(getenv); h != "" {
		return filepath.Join(h, p[len("%USERPROFILE%"):])
	}
	return p
}
