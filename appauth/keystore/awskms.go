package keystore

import "github.com/git-credential-ghapp/git-credential-ghapp/appauth/awskms"

func init() { register("awskms", awskms.New) }
