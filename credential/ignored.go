package credential

// whyNotServed says why Serves is false for req, for a trace line. It names the protocol only
// as "not https" and never repeats the username, which may be someone's secret.
func (h *Handler) whyNotServed(req *Request) string {
	switch {
	case req.Protocol != "https":
		return "ignoring the request: the protocol is not https"
	case req.Username != "" && req.Username != TokenUsername:
		return "ignoring the request: it names a username other than " + TokenUsername
	}
	want, _ := normalizeHost(h.Host)
	got, ok := normalizeHost(req.Host)
	if !ok {
		return "ignoring the request: its host is not a host name"
	}
	return "ignoring the request: host " + got + " is not " + want + ", the host served (--hostname)"
}

// ignore reports a request that is not served to h.Ignored, when set, and returns nil.
func (h *Handler) ignore(req *Request) error {
	if h.Ignored != nil {
		h.Ignored(h.whyNotServed(req))
	}
	return nil
}
