#!/bin/sh
# Builds git-credential-ghapp from this checkout and installs it as $PREFIX/bin/git-credential-ghapp
# (PREFIX defaults to ~/.local). Needs only Go; touches nothing outside PREFIX.
set -eu

PREFIX=${PREFIX:-"$HOME/.local"}
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
bin="$PREFIX/bin"

if ! command -v go >/dev/null 2>&1; then
	echo "install.sh: Go is not on PATH: install Go 1.26 or newer (https://go.dev/dl/) and run ./install.sh again" >&2
	exit 1
fi

version=$(git -C "$here" describe --tags --always --dirty 2>/dev/null || echo devel)
mkdir -p "$bin"
tmp="$bin/.git-credential-ghapp.$$"
trap 'rm -f "$tmp"' EXIT
# Static and reproducible: a cgo-linked binary starts measurably slower, and start-up is most of
# what a cached `get` costs.
(cd "$here" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$version" -o "$tmp" ./cmd/git-credential-ghapp)
chmod 0755 "$tmp"
mv -f "$tmp" "$bin/git-credential-ghapp"
trap - EXIT

echo "installed $bin/git-credential-ghapp ($("$bin/git-credential-ghapp" version))"
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
