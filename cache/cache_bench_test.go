package cache

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkInstallationHit measures reading a cached installation mapping, which every cached
// get without --installation-id does before it reads the token.
func BenchmarkInstallationHit(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), DirName))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	if err := s.PutInstallation("github.com", "123", "repo:acme/app", 5001, now); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if id, ok := s.Installation("github.com", "123", "repo:acme/app", now); !ok || id != 5001 {
			b.Fatalf("Installation = %d, %v", id, ok)
		}
	}
}

// BenchmarkOpen measures opening and checking the cache directory, which every process does once.
func BenchmarkOpen(b *testing.B) {
	dir := filepath.Join(b.TempDir(), DirName)
	if _, err := Open(dir); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		s, err := Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// BenchmarkDecodeEntry compares the cache's decoder of a token file with encoding/json on the
// same file (a 520-character token, as GitHub's newer tokens are), without the file system.
func BenchmarkDecodeEntry(b *testing.B) {
	e := entry(key(), strings.Repeat("x", 520), time.Now().Add(time.Hour))
	e.Permissions = map[string]string{"contents": "read", "metadata": "read"}
	e.RepositorySelection = "selected"
	data := encodeEntry(e)
	b.Run("handwritten", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := decodeEntry(data); !ok {
				b.Fatal("decode failed")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var e Entry
			if err := json.Unmarshal(data, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
