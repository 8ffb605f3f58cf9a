package hashivault

import (
	"testing"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth/internal/kmstest"
)

// BenchmarkNew measures what a helper process pays before its first signature (kmstest.BenchNew).
func BenchmarkNew(b *testing.B) { kmstest.BenchNew(b, benchStart(b), New) }

// BenchmarkSign measures one signature round trip to the fake on loopback.
func BenchmarkSign(b *testing.B) { kmstest.BenchSign(b, benchStart(b), New) }

func benchStart(b *testing.B) string {
	_, uri := start(b, kmstest.MustKey(b))
	return uri
}
