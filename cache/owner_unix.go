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

// openFlags are added to every open in the store: O_NONBLOCK, so that opening a FIFO someone
// left in the cache returns at once instead of waiting for a writer (the file's type is checked
// on the opened file, and only regular files are read), and O_NOCTTY, so that a terminal device
// never becomes the controlling terminal. The store adds O_NOFOLLOW itself (os.Root).
const openFlags = syscall.O_NONBLOCK | syscall.O_NOCTTY
