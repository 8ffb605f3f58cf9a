package main

import (
	"os"

	"github.com/git-credential-ghapp/git-credential-ghapp/internal/options"
)

// ownVariables are the environment variables the front reads besides the options' own
// (options.All[i].Env): the cache directory's and the lock budget's. frontVariable numbers them
// all without building a list, which would cost every start an allocation in init.
var ownVariables = [...]string{"HOME", "XDG_RUNTIME_DIR", "XDG_CACHE_HOME", "GHAPP_CACHE_DIR", options.LockWaitedVar}

// frontVariableCount is how many environment variables the front reads.
func frontVariableCount() int { return len(ownVariables) + len(options.All) }

// frontVariable returns the i-th environment variable the front reads, 0 <= i <
// frontVariableCount().
func frontVariable(i int) string {
	if i < len(ownVariables) {
		return ownVariables[i]
	}
	return options.All[i-len(ownVariables)].Env
}

// maxFrontVariables bounds frontVariableCount() (TestFrontVariablesFit).
const maxFrontVariables = 32

// envScan picks the values of the front's variables (frontVariable) out of an environment block
// (NAME=value entries, each ended by a NUL), fed in pieces of any size. As with os.Getenv, the
// first entry of a name counts, and an entry without '=' is no variable.
type envScan struct {
	values [maxFrontVariables]string
	found  [maxFrontVariables]bool

	name  []byte // the entry's name so far, while in it
	inVal bool   // past the '=' of an entry whose name is wanted
	skip  bool   // past the '=' of another entry, or in a name too long to be wanted
	want  int    // the number (frontVariable) of the entry being read
	value []byte

	// Room for name and value, so that the scan allocates nothing but the values it keeps (a
	// longer value grows on the heap).
	nameBuf  [64]byte
	valueBuf [1024]byte
}

func (s *envScan) feed(b []byte) {
	for _, c := range b {
		switch {
		case c == 0:
			if s.inVal && !s.found[s.want] {
				s.values[s.want], s.found[s.want] = string(s.value), true
			}
			s.name, s.value, s.inVal, s.skip = s.name[:0], s.value[:0], false, false
		case s.skip:
		case s.inVal:
			s.value = append(s.value, c)
		case c == '=':
			s.want = wanted(s.name)
			s.inVal, s.skip = s.want >= 0, s.want < 0
		case len(s.name) >= 64: // longer than any name the front reads
			s.skip = true
		default:
			s.name = append(s.name, c)
		}
	}
}

// wanted returns the number (frontVariable) of name, or -1.
func wanted(name []byte) int {
	for i := range frontVariableCount() {
		if frontVariable(i) == string(name) {
			return i
		}
	}
	return -1
}

// getenv returns the variable name as os.Getenv would.
func (s *envScan) getenv(name string) string {
	for i := range frontVariableCount() {
		if frontVariable(i) == name {
			return s.values[i]
		}
	}
	return os.Getenv(name)
}
