package keystore

import "github.com/git-credential-ghapp/git-credential-ghapp/appauth/azurekms"

func init() { register("azurekms", azurekms.New) }
