package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary act as one of many writer processes (see TestConcurrentProcesses).
func TestMain(m *testing.M) {
	if path := os.Getenv("AUDIT_TEST_WRITER"); path != "" {
		id, _ := strconv.Atoi(os.Getenv("AUDIT_TEST_ID"))
		n, _ := strconv.Atoi(os.Getenv("AUDIT_TEST_LINES"))
		l := &Log{Path: path, Warn: func(s string) { fmt.Fprintln(os.Stderr, s); os.Exit(3) }}
		for i := range n {
			l.Record(bigEvent(id, i))
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// bigEvent makes a line of a few KiB, far beyond what a single small write could carry by luck.
func bigEvent(proc, i int) Event {
	var repos []string
	for r := range 70 {
		repos = append(repos, fmt.Sprintf("acme/p%02d-i%04d-r%02d-%s", proc, i, r, strings.Repeat("x", 20)))
	}
	return Event{Event: EventMint, Host: "github.com", App: strconv.Itoa(proc), InstallationID: int64(i + 1),
		Repositories: repos, Token: fmt.Sprintf("ghs_%d_%d", proc, i)}
}

const sampleToken = "ghs_16C7e42F292c6912E7710c838347Ae178B4a"

// The value GitHub's audit log shows: `printf %s TOKEN | openssl dgst -sha256 -binary | base64`,
// as the docs ("Identifying audit log events performed by an access token") say to compute it.
func TestHashTokenIsGitHubsHashedToken(t *testing.T) {
	if got, want := HashToken(sampleToken), "eXwM5BRYbMjraSmv6UfHIOPk01HdBwpv459jC+qrMFQ="; got != want {
		t.Fatalf("HashToken = %q, want %q", got, want)
	}
	if got, want := HashToken(""), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; got != want {
		t.Fatalf("HashToken(\"\") = %q, want %q", got, want)
	}
}

func TestRecordWritesOneLineWithoutTheToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	now := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)
	env := map[string]string{"GITHUB_RUN_ID": "77", "CI_JOB_ID": "88", "BUILD_URL": "https://ci.example/job/9/", "HOME": "/x"}
	l := &Log{Path: path, Now: func() time.Time { return now }, Getenv: func(k string) string { return env[k] }}
	l.Record(Event{Event: EventMint, Host: "github.com", App: "123", InstallationID: 42, Repositories: []string{"acme/app"},
		Permissions: map[string]string{"contents": "read"}, ExpiresAt: now.Add(time.Hour), Token: sampleToken})
	l.Record(Event{Event: EventErase, Host: "github.com", App: "123", Token: sampleToken})

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(sampleToken)) {
		t.Fatalf("the token is in the audit log:\n%s", data)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %d:\n%s", len(lines), data)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"time": "2026-01-02T03:04:05.006Z", "event": "mint", "host": "github.com", "app": "123",
		"installation": 42.0, "repositories": []any{"acme/app"}, "permissions": map[string]any{"contents": "read"},
		"expires_at": "2026-01-02T04:04:05Z", "hashed_token": "eXwM5BRYbMjraSmv6UfHIOPk01HdBwpv459jC+qrMFQ=",
		"pid": float64(os.Getpid()),
		"ci":  map[string]any{"GITHUB_RUN_ID": "77", "CI_JOB_ID": "88", "BUILD_URL": "https://ci.example/job/9/"},
	}
	for k, v := range want {
		if fmt.Sprint(got[k]) != fmt.Sprint(v) {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	wd, _ := os.Getwd()
	if got["cwd"] != wd {
		t.Errorf("cwd = %v, want %v", got["cwd"], wd)
	}
	if runtime.GOOS != "windows" && got["uid"] != float64(os.Getuid()) {
		t.Errorf("uid = %v, want %d", got["uid"], os.Getuid())
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("audit log mode %v, want 0600", fi.Mode().Perm())
		}
	}
}

func TestNilAndEmptyLogRecordNothing(t *testing.T) {
	var l *Log
	l.Record(Event{Event: EventMint}) // must not panic
	(&Log{}).Record(Event{Event: EventMint})
}

// An audit log that cannot be written is one warning, once, and never an error for the caller.
func TestUnwritableFileIsAWarning(t *testing.T) {
	dir := t.TempDir()
	for name, path := range map[string]string{
		"missing directory": filepath.Join(dir, "no", "such", "audit.jsonl"),
		"a directory":       dir,
	} {
		t.Run(name, func(t *testing.T) {
			var warnings []string
			l := &Log{Path: path, Warn: func(s string) { warnings = append(warnings, s) }}
			l.Record(Event{Event: EventMint, Token: sampleToken})
			l.Record(Event{Event: EventReuse, Token: sampleToken})
			if len(warnings) != 1 {
				t.Fatalf("want one warning, got %q", warnings)
			}
			if !strings.Contains(warnings[0], "cannot write the audit log") || strings.Contains(warnings[0], sampleToken) {
				t.Fatalf("warning %q", warnings[0])
			}
		})
	}
}

// A line never exceeds LineLimit: a token for hundreds of repositories loses list entries and
// says how many.
func TestLongLinesStayUnderTheLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	var repos []string
	for i := range 500 {
		repos = append(repos, fmt.Sprintf("acme/repository-with-a-long-name-%03d", i))
	}
	(&Log{Path: path}).Record(Event{Event: EventMint, Host: "github.com", App: "1", Repositories: repos, Token: sampleToken})
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > LineLimit || bytes.Count(data, []byte("\n")) != 1 {
		t.Fatalf("line of %d bytes, %d newlines", len(data), bytes.Count(data, []byte("\n")))
	}
	var got struct {
		Repositories []string `json:"repositories"`
		Omitted      int      `json:"repositories_omitted"`
		HashedToken  string   `json:"hashed_token"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got.Omitted == 0 || len(got.Repositories)+got.Omitted != 500 || got.HashedToken != HashToken(sampleToken) {
		t.Fatalf("kept %d, omitted %d, hashed_token %q", len(got.Repositories), got.Omitted, got.HashedToken)
	}
}

// Free-form values too long for a line (a CI variable, the working directory) are cut, never
// the event, the scope or the hash; what cannot fit at all is a warning, not a broken line.
func TestOverlongValues(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	env := map[string]string{"BUILD_URL": "https://ci.example/" + strings.Repeat("x", 5000)}
	l := &Log{Path: path, Getenv: func(k string) string { return env[k] }}
	l.Record(Event{Event: EventMint, Host: "github.com", App: "1", Repositories: []string{"acme/app"}, Token: sampleToken})
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Event       string            `json:"event"`
		HashedToken string            `json:"hashed_token"`
		CI          map[string]string `json:"ci"`
	}
	if err := json.Unmarshal(data, &got); err != nil || len(data) > LineLimit {
		t.Fatalf("%d bytes: %v", len(data), err)
	}
	if got.Event != EventMint || got.HashedToken != HashToken(sampleToken) || got.CI["truncated"] != "true" {
		t.Fatalf("%s", data)
	}

	var warnings []string
	l = &Log{Path: path, Getenv: func(k string) string { return env[k] }, Warn: func(s string) { warnings = append(warnings, s) }}
	l.Record(Event{Event: EventMint, Host: strings.Repeat("h", 5000), Token: sampleToken})
	after, _ := os.ReadFile(path)
	if len(warnings) != 1 || len(after) != len(data) {
		t.Fatalf("an event that cannot fit: warnings %q, file grew by %d", warnings, len(after)-len(data))
	}
}

// Many real processes append to one file at once; every line must come out whole. Each line is
// about 3 KiB, so interleaved writes would show as lines that do not parse or as a wrong count.
func TestConcurrentProcessesNeverInterleave(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	const procs, perProc = 16, 40
	cmds := make([]*exec.Cmd, procs)
	for p := range procs {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), "AUDIT_TEST_WRITER="+path, "AUDIT_TEST_ID="+strconv.Itoa(p), "AUDIT_TEST_LINES="+strconv.Itoa(perProc))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[p] = cmd
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("writer: %v", err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		var rec struct {
			App          string   `json:"app"`
			Installation int      `json:"installation"`
			Repositories []string `json:"repositories"`
			HashedToken  string   `json:"hashed_token"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("line %d is not one JSON record (interleaved?): %v\n%.200s", n, err, sc.Bytes())
		}
		proc, _ := strconv.Atoi(rec.App)
		want := bigEvent(proc, rec.Installation-1)
		if len(sc.Bytes()) < 2900 || len(rec.Repositories) != len(want.Repositories) || rec.HashedToken != HashToken(want.Token) {
			t.Fatalf("line %d is not what process %s wrote", n, rec.App)
		}
		seen[rec.App+"/"+strconv.Itoa(rec.Installation)] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n != procs*perProc || len(seen) != procs*perProc {
		t.Fatalf("%d lines, %d distinct; want %d", n, len(seen), procs*perProc)
	}
}

// BenchmarkRecord is the cost of one line: encode, open, write, close.
func BenchmarkRecord(b *testing.B) {
	path := filepath.Join(b.TempDir(), "audit.jsonl")
	l := &Log{Path: path}
	ev := Event{Event: EventReuse, Host: "github.com", App: "123", InstallationID: 42, Repositories: []string{"acme/app"},
		Permissions: map[string]string{"contents": "write", "metadata": "read"}, ExpiresAt: time.Now().Add(time.Hour), Token: sampleToken}
	for b.Loop() {
		l.Record(ev)
	}
}
