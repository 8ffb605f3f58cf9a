//go:build unix

package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// readDir is the store's directory as a plain descriptor, for reads. A cached get reads two
// small files; through os.Root each would be an os.File, whose first open starts Go's network
// poller and whose bookkeeping costs a cached get more than the read itself. Writes, locks and
// listings go through an os.Root of the same directory (Store.dirRoot).
type readDir struct {
	fd       int
	dev, ino uint64 // the directory's identity, to check an os.Root opened by name
}

// openDir opens the store's directory dir (see Open): once by name, without following a link,
// then judged on the open descriptor (a directory of ours that only we can use), so that a name
// swapped between a check and the open cannot fool it. On Linux the os.Root is left to
// dirRoot, which opens it through the descriptor when a write, a lock or a listing first needs
// it (a cached get never does); elsewhere it is opened now, by name, and must be the same
// directory.
func openDir(dir string) (*os.Root, readDir, error) {
	open := func() (int, error) {
		return retryEINTR(func() (int, error) {
			return unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		})
	}
	fd, err := open()
	if err == unix.ENOENT {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, readDir{fd: -1}, fmt.Errorf("cannot create the token cache: %w", err)
		}
		fd, err = open()
	}
	switch {
	case err == unix.ELOOP || err == unix.ENOTDIR: // a link, or not a directory
		return nil, readDir{fd: -1}, &InsecureDirError{Dir: dir, Reason: "it is not a directory (remove it)"}
	case err != nil:
		return nil, readDir{fd: -1}, fmt.Errorf("cannot use the token cache: %w", &fs.PathError{Op: "open", Path: dir, Err: err})
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, readDir{fd: -1}, fmt.Errorf("cannot use the token cache: %w", &fs.PathError{Op: "fstat", Path: dir, Err: err})
	}
	if int(st.Uid) != currentUID() {
		unix.Close(fd)
		return nil, readDir{fd: -1}, &InsecureDirError{Dir: dir, Reason: "it belongs to another user (remove it or set XDG_RUNTIME_DIR)"}
	}
	if perm := st.Mode & 0o777; perm&0o077 != 0 {
		unix.Close(fd)
		return nil, readDir{fd: -1}, &InsecureDirError{Dir: dir, Reason: fmt.Sprintf("it is accessible to others (mode %04o): run chmod 700 %s", perm, dir)}
	}
	d := readDir{fd: fd, dev: uint64(st.Dev), ino: uint64(st.Ino)}
	if runtime.GOOS == "linux" {
		return nil, d, nil
	}
	root, err := d.root(dir)
	if err != nil {
		unix.Close(fd)
		return nil, readDir{fd: -1}, err
	}
	return root, d, nil
}

// root opens the directory d as an os.Root. On Linux /proc/self/fd/FD leads to that very
// directory, even if it was renamed since it was opened; elsewhere, or without /proc, dir is
// opened again by name and must still be the same directory.
func (d readDir) root(dir string) (*os.Root, error) {
	if d.fd < 0 {
		return nil, errors.New("the token cache is closed")
	}
	if runtime.GOOS == "linux" {
		if root, err := os.OpenRoot("/proc/self/fd/" + strconv.Itoa(d.fd)); err == nil {
			return root, nil
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot use the token cache: %w", err)
	}
	fi, err := root.Stat(".")
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("cannot use the token cache: %w", err)
	}
	if same, ok := fi.Sys().(*syscall.Stat_t); !ok || uint64(same.Dev) != d.dev || uint64(same.Ino) != d.ino {
		root.Close()
		return nil, &InsecureDirError{Dir: dir, Reason: "it was replaced while in use (check who can write its parent directories)"}
	}
	return root, nil
}

// missing reports whether the directory surely has no entry name (a link counts as one).
func (d *readDir) missing(name string) bool {
	if d.fd < 0 || name == "" || strings.ContainsRune(name, '/') {
		return false
	}
	var st unix.Stat_t
	return unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == unix.ENOENT
}

func (d *readDir) close() {
	if d.fd >= 0 {
		unix.Close(d.fd)
		d.fd = -1
	}
}

// read returns the contents of the file name in the store. It returns false for any file that
// is missing, not a regular file, not ours, readable by others or too large. It never blocks on
// what it finds: the file is opened without following a link and without waiting (a FIFO opens
// at once and is then refused by its type, taken from the opened file, so a swap between a check
// and the open cannot fool it).
//
// The contents go into buf when they fit in its capacity (Get and Installation pass the Store's
// scratch buffer, so that reading a cached entry allocates nothing), and into a new slice
// otherwise.
func (s *Store) read(name string, buf []byte) ([]byte, bool) {
	if s.reads.fd < 0 || name == "" || strings.ContainsRune(name, '/') {
		return nil, false
	}
	fd, err := retryEINTR(func() (int, error) {
		return unix.Openat(s.reads.fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|openFlags, 0)
	})
	if err != nil {
		return nil, false
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size > maxFileSize ||
		int(st.Uid) != currentUID() || st.Mode&0o077 != 0 {
		return nil, false
	}
	// The store replaces files by renaming new ones over them, so an open file never changes:
	// the size fstat gave is all there is to read.
	var data []byte
	if int64(cap(buf)) >= st.Size {
		data = buf[:st.Size]
	} else {
		data = make([]byte, st.Size)
	}
	n := 0
	for n < len(data) {
		m, err := retryEINTR(func() (int, error) { return unix.Read(fd, data[n:]) })
		if err != nil {
			return nil, false
		}
		if m == 0 {
			break
		}
		n += m
	}
	return data[:n], true
}

// retryEINTR calls f again while it is interrupted by a signal.
func retryEINTR(f func() (int, error)) (int, error) {
	for {
		n, err := f()
		if err != unix.EINTR {
			return n, err
		}
	}
}
