//go:build !unix

package cache

import "io/fs"

// ownedByMe reports whether fi belongs to the current user. Outside Unix the directory is under
// the user's own profile, whose ACL already keeps others out, so ownership is not checked.
func ownedByMe(fs.FileInfo) bool { return true }

// noFollow is 0 where the platform has no O_NOFOLLOW; Windows links need privileges to create.
const noFollow = 0
