package kmsrest

import (
	"context"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// A key store reached over https that redirects to plain http (a misconfigured proxy, a Vault
// standby that names its active node by an http address) must not get the store's credential
// sent in the clear: the redirect is refused, as Vault's own client refuses a protocol
// downgrade. X-Vault-Token is not among the headers Go's client drops on a redirect.
func TestRedirectNeverLeavesHTTPS(t *testing.T) {
	var leaked atomic.Bool
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Vault-Token") != "" || r.Header.Get("Authorization") != "" {
			leaked.Store(true)
		}
		w.Write([]byte(`{}`))
	}))
	defer plain.Close()
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer secure.Close()
	pool := x509.NewCertPool()
	pool.AddCert(secure.Certificate())
	header := http.Header{"X-Vault-Token": {"hvs.secret-token"}, "Authorization": {"Bearer secret"}}
	status, _, err := Do(context.Background(), NewClient(pool), http.MethodPost, secure.URL+"/v1/transit/sign/k", map[string]string{}, header)
	if leaked.Load() {
		t.Fatal("the credential was sent over plain http after a redirect")
	}
	if err == nil {
		t.Fatalf("a redirect from https to http was followed (status %d)", status)
	}
}

// A redirect within https is still followed (Vault's standby nodes redirect to the active one).
func TestRedirectWithinHTTPSIsFollowed(t *testing.T) {
	var got atomic.Value
	target := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("X-Vault-Token"))
		w.Write([]byte(`{}`))
	}))
	defer target.Close()
	first := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer first.Close()
	pool := x509.NewCertPool()
	pool.AddCert(first.Certificate())
	pool.AddCert(target.Certificate())
	status, _, err := Do(context.Background(), NewClient(pool), http.MethodPost, first.URL+"/v1/transit/sign/k", map[string]string{}, http.Header{"X-Vault-Token": {"t"}})
	if err != nil || status != http.StatusOK || got.Load() != "t" {
		t.Fatalf("status %d, err %v, token seen %v", status, err, got.Load())
	}
}

// Plain http is allowed only to this machine: a DNS name that merely starts with "127." (which
// anyone can register, e.g. 127.0.0.1.nip.io, and point anywhere) is not a loopback address.
func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "127.0.0.1": true, "127.1.2.3": true, "::1": true,
		"127.0.0.1.nip.io": false, "127.attacker.example": false, "vault.example.com": false, "": false, "::": false,
	} {
		if got := IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}
