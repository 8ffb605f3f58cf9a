package fakegithub

import (
	"net/http"
	"strings"
)

// Fault makes the next matching requests fail. Faults are queued and
// consumed in order: a request takes the first queued fault whose Route
// matches it.
type Fault struct {
	// Route is "" for any REST route, or a route pattern as in Count. Git
	// requests are hit only by a fault naming their git route.
	Route string
	// Times is how many requests the fault hits; 0 means 1.
	Times int
	// Status is the status to answer, e.g. 500, 502, 503, 429, 403.
	Status int
	// Header is added to the answer, overriding the usual headers, e.g.
	// {"Retry-After": "1"} or {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "<unix>"}.
	Header map[string]string
	// Body is the JSON body; "" gives a GitHub-like body for Status.
	Body string
	// Drop closes the connection without answering (a network error).
	// Go's http.Transport may silently retry an idempotent request that was
	// sent on a reused keep-alive connection, which uses up one more hit.
	Drop bool
}

// AddFault queues f. Any time is fine, including while requests run.
func (s *Server) AddFault(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	f.Header = copyHeaderMap(f.Header)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

func copyHeaderMap(h map[string]string) map[string]string {
	if h == nil {
		return nil
	}
	c := make(map[string]string, len(h))
	for k, v := range h {
		c[k] = v
	}
	return c
}

// takeFault consumes one hit of the first fault matching route and returns
// a copy of it, or nil.
func (s *Server) takeFault(route string, git bool) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Route == route || (f.Route == "" && !git) {
			c := *f
			f.Times--
			if f.Times <= 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			return &c
		}
	}
	return nil
}

// writeFault answers with the fault, or drops the connection. It returns
// the status written (0 for a drop).
func (s *Server) writeFault(w http.ResponseWriter, f *Fault) int {
	if f.Drop {
		dropConnection(w)
		return 0
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	for k, v := range f.Header {
		w.Header().Set(k, v)
	}
	body := f.Body
	if body == "" {
		body = defaultFaultBody(f.Status, f.Header, w.Header().Get("x-github-request-id"))
	}
	w.WriteHeader(f.Status)
	_, _ = w.Write([]byte(body))
	return f.Status
}

// dropConnection closes the client's connection without a response.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // net/http closes the connection quietly
}

// defaultFaultBody is a GitHub-shaped error body for status.
func defaultFaultBody(status int, header map[string]string, requestID string) string {
	msg := http.StatusText(status)
	doc := "https://docs.github.com/rest"
	remaining := ""
	for k, v := range header {
		if strings.EqualFold(k, "x-ratelimit-remaining") {
			remaining = v
		}
	}
	switch status {
	case http.StatusInternalServerError:
		msg = "Server Error"
	case http.StatusUnauthorized:
		msg = "Bad credentials"
	case http.StatusUnprocessableEntity:
		msg = "Validation Failed"
	case http.StatusForbidden, http.StatusTooManyRequests:
		// The primary limit says so through x-ratelimit-remaining: 0; without
		// it GitHub means its secondary (abuse) limit.
		doc = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
		if remaining == "0" {
			msg = "API rate limit exceeded for installation. If you reach out to GitHub Support for help, please include the request ID " + requestID + "."
		} else {
			msg = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID " + requestID + "."
		}
	}
	return errorJSON(status, msg, doc)
}
