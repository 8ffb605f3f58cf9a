//go:build !unix

package cache

import (
	"io"
	"io/fs"
	"os"
	"runtime"
)

// readDir is unused outside Unix: files are read through the store's os.Root.
type readDir struct{}

func openReadDir(string, fs.FileInfo) (readDir, error) { return readDir{}, nil }

func (readDir) close() {}

// read returns the contents of the file name in the store. It returns false for any file that
// is missing, not a regular file, not ours, readable by others or too large.
func (s *Store) read(name string) ([]byte, bool) {
	f, err := s.root.OpenFile(name, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > maxFileSize || !ownedByMe(fi) {
		return nil, false
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, false
	}
	data := make([]byte, fi.Size()+1) // one byte more, to notice a file that grew
	n := 0
	for n < len(data) {
		m, err := f.Read(data[n:])
		n += m
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, false
		}
	}
	if n > maxFileSize {
		return nil, false
	}
	return data[:n], true
}
