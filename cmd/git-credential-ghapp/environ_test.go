package main

import (
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestFrontVariablesFit: envScan keeps the values in arrays of maxFrontVariables, and the
// variables are told apart by name.
func TestFrontVariablesFit(t *testing.T) {
	if n := frontVariableCount(); n > maxFrontVariables {
		t.Fatalf("%d variables, room for %d: raise maxFrontVariables", n, maxFrontVariables)
	}
	names := frontVariables()
	if !slices.Contains(names, "XDG_RUNTIME_DIR") || !slices.Contains(names, "GHAPP_APP_ID") {
		t.Fatalf("the front's variables lack the cache directory's or an option's: %q", names)
	}
	slices.Sort(names)
	if len(slices.Compact(names)) != frontVariableCount() {
		t.Fatalf("a variable is numbered twice: %q", frontVariables())
	}
}

// frontVariables lists the variables the front reads, in frontVariable's order.
func frontVariables() []string {
	var names []string
	for i := range frontVariableCount() {
		names = append(names, frontVariable(i))
	}
	return names
}

// referenceGetenv is what os.Getenv answers for an environment block (syscall's copyenv): the
// first entry of a name counts; an entry without '=' is none.
func referenceGetenv(entries []string, name string) string {
	for _, e := range entries {
		if k, v, ok := strings.Cut(e, "="); ok && k == name {
			return v
		}
	}
	return ""
}

// TestEnvScan feeds environment blocks to envScan in pieces of every size and compares what it
// answers with os.Getenv's rules.
func TestEnvScan(t *testing.T) {
	long := strings.Repeat("v", 3000)
	entries := []string{
		"PATH=/usr/bin",
		"GHAPP_APP_ID=first",
		"GHAPP_APP_ID=second",             // a duplicate: the first counts
		"GHAPP_PERMISSIONS=contents=read", // '=' in a value
		"GHAPP_HOSTNAME=",                 // empty
		"GHAPP_OWNER",                     // no '=': not a variable
		"=GHAPP_SCOPE=repo",               // empty name
		strings.Repeat("X", 100) + "=GHAPP_TRACE=1",
		"HOME=" + long, // longer than any read
		"XDG_RUNTIME_DIR=/run/user/1000",
		"GHAPP_SCOPE=installation",
		"ÄÖ=ü",
	}
	block := []byte(strings.Join(entries, "\x00") + "\x00")
	names := append([]string{"PATH", "NOT_SET", "GHAPP_OWNER"}, frontVariables()...)
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 200 {
		var s envScan
		for rest := block; len(rest) > 0; {
			n := 1 + r.IntN(min(len(rest), 1+trial*13))
			s.feed(rest[:n])
			rest = rest[n:]
		}
		s.feed([]byte{0})
		for _, name := range names {
			want := referenceGetenv(entries, name)
			if !slices.Contains(frontVariables(), name) {
				want = os.Getenv(name) // not picked: asked of os.Getenv
			}
			if got := s.getenv(name); got != want {
				t.Fatalf("trial %d: getenv(%q) = %.20q, want %.20q", trial, name, got, want)
			}
		}
	}
	// The last entry may lack its NUL.
	var s envScan
	s.feed([]byte("HOME=/h\x00GHAPP_APP_ID=9"))
	s.feed([]byte{0})
	if s.getenv("GHAPP_APP_ID") != "9" || s.getenv("HOME") != "/h" {
		t.Fatalf("without a final NUL: %q %q", s.getenv("GHAPP_APP_ID"), s.getenv("HOME"))
	}
}

// TestEnvironIsGetenv: in a process started with a crafted environment (duplicates included,
// which os/exec would remove), environ answers what os.Getenv does for every variable.
func TestEnvironIsGetenv(t *testing.T) {
	if os.Getenv("GHAPP_TEST_ENVIRON_CHILD") == "1" {
		get := environ()
		for _, name := range frontVariables() {
			if got, want := get(name), os.Getenv(name); got != want {
				t.Fatalf("environ()(%q) = %q, os.Getenv = %q", name, got, want)
			}
		}
		return
	}
	env := []string{
		"GHAPP_TEST_ENVIRON_CHILD=1", "GHAPP_APP_ID=first", "GHAPP_APP_ID=second",
		"GHAPP_PERMISSIONS=contents=read", "GHAPP_HOSTNAME=", "HOME=" + t.TempDir(),
		"XDG_RUNTIME_DIR=" + strings.Repeat("/d", 900), "GHAPP_TRACE",
	}
	p, err := os.StartProcess(os.Args[0], []string{os.Args[0], "-test.run=^TestEnvironIsGetenv$"}, &os.ProcAttr{
		Env: env, Files: []*os.File{nil, os.Stdout, os.Stderr},
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := p.Wait()
	if err != nil || !st.Success() {
		t.Fatalf("the child process found a difference (%v, %v)", st, err)
	}
}
