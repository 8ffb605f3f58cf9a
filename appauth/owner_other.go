//go:build !unix

package appauth

import "io/fs"

// describeOwner says nothing useful where mode bits do not decide access (Windows).
func describeOwner(fs.FileInfo) string { return "check the file's permissions" }
