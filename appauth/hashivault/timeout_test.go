package hashivault

import (
	"strings"
	"testing"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth/internal/kmstest"
)

func TestStoreNeverAnswers(t *testing.T) {
	kmstest.ShortTimeout(t, 300*time.Millisecond) // Vault never answers; no token request here
	addr := kmstest.HangingAddr(t)
	setEnv(t, []string{"VAULT_ADDR=https://" + addr, "VAULT_TOKEN=hvs.secret"})
	_, err := New(t.Context(), "hashivault://k")
	want := "hashivault: cannot reach Vault at https://" + addr + ": no answer within 300ms; check VAULT_ADDR"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err = %v, want prefix %q", err, want)
	}
}
