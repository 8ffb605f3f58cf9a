//go:build unix

package appauth

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// describeOwner says who owns the file, and who this process runs as, e.g.
// "owned by root (uid 0); you are alice (uid 1000)".
func describeOwner(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "owner unknown"
	}
	return fmt.Sprintf("owned by %s; you are %s", userName(int(st.Uid)), userName(os.Getuid()))
}

func userName(uid int) string {
	id := strconv.Itoa(uid)
	if u, err := user.LookupId(id); err == nil && u.Username != "" {
		return u.Username + " (uid " + id + ")"
	}
	return "uid " + id
}
