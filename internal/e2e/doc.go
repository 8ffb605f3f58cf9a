// Package e2e holds end-to-end tests that run the helper as users install it: the binaries are
// built with `go build ./cmd/...` into a temporary directory, and real clients (git, git-lfs, the
// go command, the shell commands of README's recipes) use them against the fake GitHub. It has no
// code of its own.
package e2e
