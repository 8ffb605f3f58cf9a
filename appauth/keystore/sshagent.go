package keystore

import "github.com/git-credential-ghapp/git-credential-ghapp/appauth/sshagent"

func init() { register("ssh-agent", sshagent.New) }
