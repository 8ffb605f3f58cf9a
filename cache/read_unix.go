//go:build unix

package cache

import (
	"errors"
	"io/fs"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// readDir is the store's directory opened a second time, as a plain descriptor, for reads. A
// cached get reads two small files; through os.Root each would be an os.File, whose first open
// starts Go's network poller and whose bookkeeping costs a cached get more than the read itself.
// Writes, locks and listings keep going through the store's os.Root.
type readDir struct{ fd int }

// openReadDir opens dir for reading cache files and checks that it is the directory open (the
// store's os.Root has open), so that both handles always name the same directory.
func openReadDir(dir string, open fs.FileInfo) (readDir, error) {
	fd, err := retryEINTR(func() (int, error) {
		return unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	})
	if err != nil {
		return readDir{fd: -1}, err
	}
	var st unix.Stat_t
	want, ok := open.Sys().(*syscall.Stat_t)
	if unix.Fstat(fd, &st) != nil || !ok || uint64(st.Dev) != uint64(want.Dev) || uint64(st.Ino) != uint64(want.Ino) {
		unix.Close(fd)
		return readDir{fd: -1}, errors.New("the directory changed")
	}
	return readDir{fd: fd}, nil
}

func (d readDir) close() {
	if d.fd >= 0 {
		unix.Close(d.fd)
	}
}

// read returns the contents of the file name in the store. It returns false for any file that
// is missing, not a regular file, not ours, readable by others or too large. It never blocks on
// what it finds: the file is opened without following a link and without waiting (a FIFO opens
// at once and is then refused by its type, taken from the opened file, so a swap between a check
// and the open cannot fool it).
func (s *Store) read(name string) ([]byte, bool) {
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
	data := make([]byte, st.Size+1) // one byte more, to notice a file that grew
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
	if n > maxFileSize {
		return nil, false
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
