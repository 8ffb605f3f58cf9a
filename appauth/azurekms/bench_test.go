package azurekms

import (
	"testing"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth/internal/kmstest"
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/fakekms"
)

// BenchmarkNew measures what a helper process pays before its first signature (kmstest.BenchNew).
func BenchmarkNew(b *testing.B) { kmstest.BenchNew(b, benchStart(b), New) }

// BenchmarkSign measures one signature round trip to the fake on loopback.
func BenchmarkSign(b *testing.B) { kmstest.BenchSign(b, benchStart(b), New) }

func benchStart(b *testing.B) string {
	f, uri, env, err := fakekms.StartAzure(kmstest.MustKey(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(f.Close)
	kmstest.SetEnv(b, env)
	return uri
}
