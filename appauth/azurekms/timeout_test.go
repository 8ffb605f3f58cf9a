package azurekms

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// hangingAddr returns the address of a listener that accepts connections and never answers
// (not even the TLS handshake), until the test ends.
func hangingAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().String()
}

// shortTimeout lowers the per-call limit for one test; the store under test never answers, so
// the outcome does not depend on the machine's speed. 3 s leaves the token request to the
// (answering) fake token endpoint ample time on a loaded machine.
func shortTimeout(t *testing.T) {
	old := callTimeout
	callTimeout = 3 * time.Second
	t.Cleanup(func() { callTimeout = old })
}

func TestStoreNeverAnswers(t *testing.T) {
	start(t, mustKey(t))
	shortTimeout(t)
	addr := hangingAddr(t)
	_, err := New(t.Context(), "azurekms://"+addr+"/ghapp")
	want := "azurekms: cannot reach Key Vault at https://" + addr + ": no answer within 3s;"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err = %v, want prefix %q", err, want)
	}
}
