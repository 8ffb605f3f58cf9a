//go:build unix

package audit

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A FIFO that nobody reads, left where the audit log belongs (by the user, or by another user
// who can write a shared log directory), is a warning: opening it must not wait for a reader,
// which would hang git's get past every deadline.
func TestFIFOWithoutReaderIsAWarningNotAHang(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	warned := make(chan string, 2)
	l := &Log{Path: path, Warn: func(s string) { warned <- s }}
	done := make(chan struct{})
	go func() {
		l.Record(Event{Event: EventMint, Token: sampleToken})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second): // Record does no waiting of its own: it returns at once or never
		t.Fatal("Record blocked on a FIFO with no reader")
	}
	select {
	case w := <-warned:
		if !strings.Contains(w, "cannot write the audit log") || strings.Contains(w, sampleToken) {
			t.Fatalf("warning %q", w)
		}
	default:
		t.Fatal("no warning for a FIFO with no reader")
	}
}

// A FIFO that a log shipper reads still gets every line whole (README: "on a FIFO alike").
func TestFIFOWithReaderGetsTheLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		data, _ := os.ReadFile(path) // opens, blocking, until the writer comes; reads to its close
		got <- data
	}()
	var warnings []string
	l := &Log{Path: path, Warn: func(s string) { warnings = append(warnings, s) }}
	// The reader may not have opened the FIFO yet: then Record warns (no reader) and nothing is
	// lost but that line; try until a line goes through.
	for i := 0; ; i++ {
		warnings = nil
		l.warned = false
		l.Record(Event{Event: EventMint, Token: sampleToken})
		if len(warnings) == 0 {
			break
		}
		if i == 2000 {
			t.Fatalf("no reader seen: %q", warnings)
		}
		time.Sleep(5 * time.Millisecond)
	}
	data := <-got
	if !bytes.HasSuffix(data, []byte("\n")) || bytes.Count(data, []byte("\n")) != 1 || !bytes.Contains(data, []byte(`"event":"mint"`)) {
		t.Fatalf("the reader got %q", data)
	}
}
