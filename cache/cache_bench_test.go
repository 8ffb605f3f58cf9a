package cache

import (
	"path/filepath"
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

// BenchmarkOpen measures checking the cache directory, which every process does once.
func BenchmarkOpen(b *testing.B) {
	dir := filepath.Join(b.TempDir(), DirName)
	if _, err := Open(dir); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Open(dir); err != nil {
			b.Fatal(err)
		}
	}
}
