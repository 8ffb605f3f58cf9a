package fakegithub

import (
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"testing"
)

// Rotation as GitHub documents it: add a key, deploy it, delete the old one. Both keys work in
// between; after the delete only the new one does.
func TestKeyRotation(t *testing.T) {
	s := newServer(t)
	app := s.NewApp("rotating")
	oldApp := *app
	newPEM := s.AddKey(app)
	block, _ := pem.Decode(newPEM)
	newKey, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	newApp := oldApp
	newApp.Key = newKey

	status := func(a *App) int {
		return call(t, s, "GET", "/app", bearer(appJWT(t, a, s.now())), "").status
	}
	if status(&oldApp) != http.StatusOK || status(&newApp) != http.StatusOK {
		t.Fatal("both keys must work while both exist")
	}
	if !s.DeleteKey(app, app.PEM) {
		t.Fatal("DeleteKey did not find the app's key")
	}
	if got := status(&oldApp); got != http.StatusUnauthorized {
		t.Fatalf("deleted key: %d, want 401", got)
	}
	if got := status(&newApp); got != http.StatusOK {
		t.Fatalf("new key after the old one was deleted: %d", got)
	}
	if !s.DeleteKey(app, newPEM) || status(&newApp) != http.StatusUnauthorized {
		t.Fatal("with every key deleted, nothing verifies")
	}
}
