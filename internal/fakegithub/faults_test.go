package fakegithub

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	s := newServer(t)
	app := s.NewApp("builder")
	addRepos(t, s, "acme/widgets")
	inst := s.Install(app, "acme", "Organization", map[string]string{"contents": "read"})
	jwt := bearer(appJWT(t, app, time.Now()))
	mintRoute := "POST /app/installations/{id}/access_tokens"
	mintPath := fmt.Sprintf("/app/installations/%d/access_tokens", inst.ID)

	// A route fault hits its route only, Times times, with its headers.
	s.AddFault(Fault{Route: mintRoute, Times: 2, Status: 503, Header: map[string]string{"Retry-After": "1"}})
	if r := call(t, s, "GET", "/app", jwt, ""); r.status != http.StatusOK {
		t.Errorf("other route hit: %d", r.status)
	}
	for i := range 2 {
		r := call(t, s, "POST", mintPath, jwt, "")
		if r.status != 503 || r.header.Get("Retry-After") != "1" || r.message(t) != "Service Unavailable" || r.header.Get("Date") == "" {
			t.Errorf("hit %d: %d %v %s", i, r.status, r.header, r.body)
		}
	}
	if r := call(t, s, "POST", mintPath, jwt, ""); r.status != http.StatusCreated {
		t.Errorf("after the fault: %d %s", r.status, r.body)
	}
	if m := s.Mints(); len(m) != 1 || m[0].Status != 201 {
		t.Errorf("Mints() = %+v, want only the request that reached the endpoint", m)
	}
	if got := s.Count(mintRoute); got != 3 {
		t.Errorf("Count = %d, want 3", got)
	}
	var faulted int
	for _, r := range s.Requests() {
		if r.Fault {
			faulted++
			if r.Route != mintRoute || r.Status != 503 {
				t.Errorf("faulted request %+v", r)
			}
		}
	}
	if faulted != 2 {
		t.Errorf("%d faulted requests logged", faulted)
	}

	// Route "" hits any REST route; faults are consumed in order.
	reset := fmt.Sprint(time.Now().Add(time.Minute).Unix())
	s.AddFault(Fault{Status: 403, Header: map[string]string{"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}})
	s.AddFault(Fault{Status: 429})
	s.AddFault(Fault{Status: 500})
	s.AddFault(Fault{Status: 502, Body: `{"message":"custom"}`})
	r := call(t, s, "GET", "/app/installations", jwt, "")
	if r.status != 403 || r.header.Get("x-ratelimit-remaining") != "0" || r.header.Get("x-ratelimit-reset") != reset ||
		!strings.HasPrefix(r.message(t), "API rate limit exceeded") {
		t.Errorf("rate limit fault: %d %v %s", r.status, r.header, r.body)
	}
	if r := call(t, s, "GET", "/orgs/acme/installation", jwt, ""); r.status != 429 || !strings.Contains(r.message(t), "secondary rate limit") {
		t.Errorf("429 fault: %d %s", r.status, r.body)
	}
	if r := call(t, s, "GET", "/nope", jwt, ""); r.status != 500 || r.message(t) != "Server Error" || r.json(t)["status"] != "500" {
		t.Errorf("500 fault: %d %s", r.status, r.body)
	}
	if r := call(t, s, "GET", "/app", jwt, ""); r.status != 502 || r.message(t) != "custom" {
		t.Errorf("502 fault: %d %s", r.status, r.body)
	}
	if r := call(t, s, "GET", "/app", jwt, ""); r.status != 200 {
		t.Errorf("queue not empty: %d", r.status)
	}

	// Drop: the client sees a network error, and the next request works.
	s.AddFault(Fault{Route: mintRoute, Drop: true})
	pem, _ := os.ReadFile(s.CAFile)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	fresh := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer fresh.CloseIdleConnections()
	req, _ := http.NewRequest("POST", s.APIURL+mintPath, strings.NewReader("{}"))
	req.Header.Set("Authorization", jwt)
	req.Header.Set("User-Agent", "t")
	if resp, err := fresh.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped request answered %d", resp.StatusCode)
	}
	if r := callWith(t, fresh, s, "POST", mintPath, jwt, ""); r.status != http.StatusCreated {
		t.Errorf("after drop: %d", r.status)
	}
	log := s.Requests()
	var dropped bool
	for _, r := range log {
		if r.Fault && r.Status == 0 && r.Route == mintRoute {
			dropped = true
		}
	}
	if !dropped {
		t.Errorf("drop not logged: %+v", log)
	}
}
