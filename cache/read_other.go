//go:build !unix

package cache

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
)

// readDir is unused outside Unix: files are read through the store's os.Root.
type readDir struct{}

// openDir opens the store's directory dir (see Open).
func openDir(dir string) (*os.Root, readDir, error) {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, readDir{}, fmt.Errorf("cannot create the token cache: %w", err)
		}
		fi, err = os.Lstat(dir)
	}
	if err != nil {
		return nil, readDir{}, fmt.Errorf("cannot use the token cache: %w", err)
	}
	if !fi.IsDir() {
		return nil, readDir{}, &InsecureDirError{Dir: dir, Reason: "it is not a directory (remove it)"}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, readDir{}, fmt.Errorf("cannot use the token cache: %w", err)
	}
	// Judge the directory that is open, not the name: the name may have been swapped after the
	// Lstat above (for a link, or another directory) by someone who can write a parent.
	open, err := root.Stat(".")
	if err != nil {
		root.Close()
		return nil, readDir{}, fmt.Errorf("cannot use the token cache: %w", err)
	}
	if runtime.GOOS != "windows" && !os.SameFile(fi, open) {
		root.Close()
		return nil, readDir{}, &InsecureDirError{Dir: dir, Reason: "it was replaced while being opened (check who can write its parent directories)"}
	}
	if !ownedByMe(open) {
		root.Close()
		return nil, readDir{}, &InsecureDirError{Dir: dir, Reason: "it belongs to another user (remove it or set XDG_RUNTIME_DIR)"}
	}
	if runtime.GOOS != "windows" && open.Mode().Perm()&0o077 != 0 {
		root.Close()
		return nil, readDir{}, &InsecureDirError{Dir: dir, Reason: fmt.Sprintf("it is accessible to others (mode %04o): run chmod 700 %s", open.Mode().Perm(), dir)}
	}
	return root, readDir{}, nil
}

func (*readDir) close() {}

// missing is false outside Unix: callers look through the store's os.Root.
func (*readDir) missing(string) bool { return false }

// root is never called outside Unix: openDir opened the store's os.Root already.
func (readDir) root(string) (*os.Root, error) { return nil, errors.New("the token cache is not open") }

// read returns the contents of the file name in the store. It returns false for any file that
// is missing, not a regular file, not ours, readable by others or too large.
// buf is not used here: reads through os.File allocate anyway (see read_unix.go).
func (s *Store) read(name string, _ []byte) ([]byte, bool) {
	root, err := s.dirRoot()
	if err != nil {
		return nil, false
	}
	f, err := root.OpenFile(name, os.O_RDONLY|openFlags, 0)
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
