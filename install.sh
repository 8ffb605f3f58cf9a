#!/bin/sh
# Builds git-credential-ghapp from this checkout and installs its two binaries (PREFIX defaults to
# ~/.local; needs only Go; touches nothing outside PREFIX):
#   $PREFIX/bin/git-credential-ghapp                                    the front git runs
#   $PREFIX/libexec/git-credential-ghapp/git-credential-ghapp-full     the full helper it hands misses to
# as git keeps git-remote-https out of PATH: people and git run only the front.
set -eu

PREFIX=${PREFIX:-"$HOME/.local"}
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
bin="$PREFIX/bin"
libexec="$PREFIX/libexec/git-credential-ghapp"

if ! command -v go >/dev/null 2>&1; then
	echo "install.sh: Go is not on PATH: install Go 1.26 or newer (https://go.dev/dl/) and run ./install.sh again" >&2
	exit 1
fi

version=$(git -C "$here" describe --tags --always --dirty 2>/dev/null || echo devel)
mkdir -p "$bin" "$libexec"
tmp="$bin/.git-credential-ghapp.$$"
tmpfull="$libexec/.git-credential-ghapp-full.$$"
trap 'rm -f "$tmp" "$tmpfull"' EXIT
# Static and reproducible: a cgo-linked binary starts measurably slower, and start-up is most of
# what a cached `get` costs.
build() { (cd "$here" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$version" -o "$1" "$2"); chmod 0755 "$1"; }
build "$tmpfull" ./cmd/git-credential-ghapp-full
build "$tmp" ./cmd/git-credential-ghapp
# The full helper first: a front never finds itself without one.
mv -f "$tmpfull" "$libexec/git-credential-ghapp-full"
mv -f "$tmp" "$bin/git-credential-ghapp"
trap - EXIT

echo "installed $bin/git-credential-ghapp ($("$bin/git-credential-ghapp" version))"
echo "      and $libexec/git-credential-ghapp-full (run by it when the token cache cannot answer)"
case ":$PATH:" in
*":$bin:"*) ;;
*) echo "note: $bin is not on your PATH; add it, or write the helper in git's config as $bin/git-credential-ghapp ..." ;;
esac
cat <<NEXT

Next step: let git use it for GitHub (replace 123 and the key path with your app's):
  git-credential-ghapp setup --app-id 123 --key-file ~/Downloads/your-app.private-key.pem
or, by hand:
  git config --global credential.https://github.com.helper 'ghapp --app-id 123 --key-file ~/.config/git-credential-ghapp/123.pem'
  git config --global credential.https://github.com.useHttpPath true
NEXT
