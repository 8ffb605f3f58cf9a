module github.com/git-credential-ghapp/git-credential-ghapp

go 1.26.0

require (
	github.com/adrg/xdg v0.5.3
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/rogpeppe/go-internal v1.16.0
	github.com/zalando/go-keyring v0.2.8
	golang.org/x/oauth2 v0.38.0
	golang.org/x/sys v0.50.0
)

require (
	cloud.google.com/go/compute/metadata v0.10.0 // indirect
	github.com/danieljoos/wincred v1.2.3 // indirect
	github.com/godbus/dbus/v5 v5.2.2 // indirect
	golang.org/x/tools v0.26.0 // indirect
)
