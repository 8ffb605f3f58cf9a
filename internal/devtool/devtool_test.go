package devtool

import (
	"slices"
	"testing"
)

func TestCleanEnv(t *testing.T) {
	got := CleanEnv([]string{"PATH=/bin", "GHAPP_APP_ID=1", "GIT_DIR=x", "XDG_RUNTIME_DIR=/run", "HOME=/root",
		"https_proxy=p", "GH_TOKEN=t", "SSL_CERT_FILE=f", "DBUS_SESSION_BUS_ADDRESS=unix:x", "GOGC=off", "LANG=C"})
	if want := []string{"PATH=/bin", "LANG=C"}; !slices.Equal(got, want) {
		t.Fatalf("CleanEnv = %q; want %q", got, want)
	}
}
