//go:build unix

package cache

import (
	"io/fs"
	"syscall"
)

// ownedByMe reports whether fi belongs to the current user.
func ownedByMe(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == currentUID()
}

// noFollow makes opening a symbolic link fail, so a link planted in the cache is never read.
const noFollow = syscall.O_NOFOLLOW
