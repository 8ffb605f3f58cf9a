package keystore

import "github.com/git-credential-ghapp/git-credential-ghapp/appauth/gcpkms"

func init() { register("gcpkms", gcpkms.New) }
