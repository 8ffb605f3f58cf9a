package main

import (
	"encoding/json"
	"os"
	"runtime"
	"strings"

	"github.com/git-credential-ghapp/git-credential-ghapp/internal/audit"
	"github.com/rogpeppe/go-internal/testscript"
)

// cmdAuditLog checks an audit log from a scenario:
//
//	auditlog FILE EVENT:VAR...   FILE holds exactly one line per argument, in order; each is one
//	                             JSON record whose event is EVENT and whose hashed_token is GitHub's
//	                             hash (base64 of SHA-256) of the token in $VAR; no token appears in
//	                             the file, and the file is 0600.
func cmdAuditLog(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: auditlog FILE EVENT:VAR...")
	}
	path := ts.MkAbs(args[0])
	data, err := os.ReadFile(path)
	ts.Check(err)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(data) == 0 {
		lines = nil
	}
	if len(lines) != len(args)-1 {
		ts.Fatalf("%s has %d lines, want %d:\n%s", args[0], len(lines), len(args)-1, data)
	}
	for i, want := range args[1:] {
		event, tokenVar, ok := strings.Cut(want, ":")
		if !ok {
			ts.Fatalf("want EVENT:VAR, got %q", want)
		}
		token := ts.Getenv(tokenVar)
		if token == "" {
			ts.Fatalf("$%s is empty", tokenVar)
		}
		if strings.Contains(string(data), token) {
			ts.Fatalf("the token in $%s is in the audit log", tokenVar)
		}
		var rec struct {
			Event       string `json:"event"`
			HashedToken string `json:"hashed_token"`
		}
		if err := json.Unmarshal([]byte(lines[i]), &rec); err != nil {
			ts.Fatalf("line %d is not JSON: %v\n%s", i+1, err, lines[i])
		}
		if rec.Event != event || rec.HashedToken != audit.HashToken(token) {
			ts.Fatalf("line %d: event %q hashed_token %q; want %q and the hash of $%s (%s)", i+1, rec.Event, rec.HashedToken, event, tokenVar, audit.HashToken(token))
		}
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		ts.Check(err)
		if fi.Mode().Perm() != 0o600 {
			ts.Fatalf("%s has mode %v, want 0600", args[0], fi.Mode().Perm())
		}
	}
}
