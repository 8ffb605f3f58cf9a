package gcpkms

import (
	"strings"
	"testing"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth/internal/kmstest"
)

func TestStoreNeverAnswers(t *testing.T) {
	_, uri := start(t, kmstest.MustKey(t))
	// 3 s leaves the token request to the (answering) fake token endpoint ample time on a loaded
	// machine; the store itself never answers.
	kmstest.ShortTimeout(t, 3*time.Second)
	addr := kmstest.HangingAddr(t)
	t.Setenv(endpointEnv, "https://"+addr+"/")
	_, err := New(t.Context(), uri)
	want := "gcpkms: cannot reach Cloud KMS at https://" + addr + ": no answer within 3s;"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err = %v, want prefix %q", err, want)
	}
}
