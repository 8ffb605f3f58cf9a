package keystore

import "github.com/git-credential-ghapp/git-credential-ghapp/appauth/hashivault"

func init() { register("hashivault", hashivault.New) }
