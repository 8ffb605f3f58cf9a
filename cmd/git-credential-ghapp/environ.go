package main

import (
	"os"
	"slices"

	"github.com/git-credential-ghapp/git-credential-ghapp/internal/options"
)

// frontVariables are the environment variables the front reads: the options', the cache
// directory's, and the lock budget's.
var frontVariables = func() []string {
	names := []string{"HOME", "XDG_RUNTIME_DIR", "XDG_CACHE_HOME", "GHAPP_CACHE_DIR", options.LockWaitedVar}
	for _, opt := range options.All {
		names = append(names, opt.Env)
	}
	return names
}()

// maxFrontVariables bounds len(frontVariables) (TestFrontVariablesFit).
const maxFrontVariables = 32

// envScan picks the values of frontVariables out of an environment block (NAME=value entries,
// each ended by a NUL), fed in pieces of any size. As with os.Getenv, the first entry of a name
// counts, and an entry without '=' is no variable.
type envScan struct {
	values [maxFrontVariables]string
	found  [maxFrontVariables]bool

	name  []byte // the entry's name so far, while in it
	inVal bool   // past the '=' of an entry whose name is wanted
	skip  bool   // past the '=' of another entry, or in a name too long to be wanted
	want  int    // index in frontVariables of the entry being read
	value []byte
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

// wanted returns the index of name in frontVariables, or -1.
func wanted(name []byte) int {
	for i, v := range frontVariables {
		if v == string(name) {
			return i
		}
	}
	return -1
}

// getenv returns the variable name as os.Getenv would.
func (s *envScan) getenv(name string) string {
	if i := slices.Index(frontVariables, name); i >= 0 {
		return s.values[i]
	}
	return os.Getenv(name)
}
