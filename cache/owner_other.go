//go:build !unix

package cache

import "io/fs"

// ownedByMe reports whether fi belongs to the current user. Outside Unix the directory is under
// the user's own profile, whose ACL already keeps others out, so ownership is not checked.
func ownedByMe(fs.FileInfo) bool { return true }

// openFlags is 0 outside Unix: Windows has no FIFOs or devices in a directory to block on.
const openFlags = 0
