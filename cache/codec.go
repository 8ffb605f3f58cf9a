package cache

import (
	"github.com/git-credential-ghapp/git-credential-ghapp/internal/jsonw"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// The cache files are JSON objects, written and read here by hand rather than with
// encoding/json: a cached get decodes two of them, and reflection was the largest part of its
// own work. The format is what encoding/json writes for the tagged structs (files written by
// earlier versions read the same); the reader takes any valid JSON of that shape, skips fields
// it does not know, and turns anything else into a miss.

func encodeEntry(e *Entry) []byte {
	b := make([]byte, 0, 256+2*len(e.Token))
	b = append(b, `{"key":`...)
	b = appendKey(b, &e.Key)
	b = append(b, `,"token":`...)
	b = jsonw.AppendString(b, e.Token)
	b = append(b, `,"expires_at":`...)
	b = appendTime(b, e.ExpiresAt)
	b = append(b, `,"created_at":`...)
	b = appendTime(b, e.CreatedAt)
	if len(e.Permissions) > 0 {
		b = append(b, `,"permissions":`...)
		b = jsonw.AppendStringMap(b, e.Permissions)
	}
	if e.RepositorySelection != "" {
		b = append(b, `,"repository_selection":`...)
		b = jsonw.AppendString(b, e.RepositorySelection)
	}
	if len(e.Repositories) > 0 {
		b = append(b, `,"repositories":`...)
		b = jsonw.AppendStrings(b, e.Repositories)
	}
	return append(b, '}')
}

func appendKey(b []byte, k *Key) []byte {
	b = append(b, `{"host":`...)
	b = jsonw.AppendString(b, k.Host)
	b = append(b, `,"app":`...)
	b = jsonw.AppendString(b, k.App)
	b = append(b, `,"installation_id":`...)
	b = strconv.AppendInt(b, k.InstallationID, 10)
	if len(k.Repositories) > 0 {
		b = append(b, `,"repositories":`...)
		b = jsonw.AppendStrings(b, k.Repositories)
	}
	if len(k.Permissions) > 0 {
		b = append(b, `,"permissions":`...)
		b = jsonw.AppendStringMap(b, k.Permissions)
	}
	return append(b, '}')
}

func encodeMapping(m *mapping) []byte {
	b := append([]byte(nil), `{"host":`...)
	b = jsonw.AppendString(b, m.Host)
	b = append(b, `,"app":`...)
	b = jsonw.AppendString(b, m.App)
	b = append(b, `,"target":`...)
	b = jsonw.AppendString(b, m.Target)
	b = append(b, `,"installation_id":`...)
	b = strconv.AppendInt(b, m.InstallationID, 10)
	if m.Account != "" {
		b = append(b, `,"account":`...)
		b = jsonw.AppendString(b, m.Account)
	}
	b = append(b, `,"stored_at":`...)
	b = appendTime(b, m.StoredAt)
	return append(b, '}')
}

func encodeClock(c *clockOffset) []byte {
	b := append([]byte(nil), `{"host":`...)
	b = jsonw.AppendString(b, c.Host)
	b = append(b, `,"offset_ns":`...)
	b = strconv.AppendInt(b, int64(c.Offset), 10)
	return append(b, '}')
}

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

func decodeEntry(data []byte) (*Entry, bool) {
	var e Entry
	d := decoder{b: data}
	d.object(func() {
		switch string(d.key()) {
		case "key":
			d.object(func() {
				switch string(d.key()) {
				case "host":
					e.Key.Host = d.str()
				case "app":
					e.Key.App = d.str()
				case "installation_id":
					e.Key.InstallationID = d.int()
				case "repositories":
					e.Key.Repositories = d.strs()
				case "permissions":
					e.Key.Permissions = d.strMap()
				default:
					d.skip()
				}
			})
		case "token":
			e.Token = d.str()
		case "expires_at":
			e.ExpiresAt = d.time()
		case "created_at":
			e.CreatedAt = d.time()
		case "permissions":
			e.Permissions = d.strMap()
		case "repository_selection":
			e.RepositorySelection = d.str()
		case "repositories":
			e.Repositories = d.strs()
		default:
			d.skip()
		}
	})
	if !d.end() {
		return nil, false
	}
	return &e, true
}

func decodeMapping(data []byte) (*mapping, bool) {
	var m mapping
	d := decoder{b: data}
	d.object(func() {
		switch string(d.key()) {
		case "host":
			m.Host = d.str()
		case "app":
			m.App = d.str()
		case "target":
			m.Target = d.str()
		case "installation_id":
			m.InstallationID = d.int()
		case "account":
			m.Account = d.str()
		case "stored_at":
			m.StoredAt = d.time()
		default:
			d.skip()
		}
	})
	return &m, d.end()
}

func decodeClock(data []byte) (*clockOffset, bool) {
	var c clockOffset
	d := decoder{b: data}
	d.object(func() {
		switch string(d.key()) {
		case "host":
			c.Host = d.str()
		case "offset_ns":
			c.Offset = time.Duration(d.int())
		default:
			d.skip()
		}
	})
	return &c, d.end()
}

// decoder reads one JSON value from b. The first problem sets bad; from then on every method
// returns a zero value without looking further, and end reports false.
type decoder struct {
	b     []byte
	i     int
	bad   bool
	depth int
	// the name of the member being read (see key): b[keyFrom:keyTo], or keyCopy when it had to
	// be unescaped
	keyFrom, keyTo int
	keyCopy        []byte
}

// maxDepth bounds nesting in skipped values, so a hostile file cannot exhaust the stack.
const maxDepth = 32

func (d *decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, or 0 at the end or after a problem.
func (d *decoder) peek() byte {
	d.ws()
	if d.bad || d.i >= len(d.b) {
		return 0
	}
	return d.b[d.i]
}

// eat consumes c, or marks the input bad.
func (d *decoder) eat(c byte) {
	if d.peek() != c {
		d.bad = true
		return
	}
	d.i++
}

// literal consumes word (null, true, false), or marks the input bad.
func (d *decoder) literal(word string) {
	d.ws()
	if d.bad || len(d.b)-d.i < len(word) || string(d.b[d.i:d.i+len(word)]) != word {
		d.bad = true
		return
	}
	d.i += len(word)
}

// end reports whether exactly one value was read without a problem, with nothing after it.
func (d *decoder) end() bool {
	d.ws()
	return !d.bad && d.i == len(d.b)
}

// object reads an object, calling field for each member with the decoder before its value
// (d.key names the member); field must consume the value. The name is not passed to field: a
// slice of b given to a function value would make every caller's input escape to the heap, and
// a cached get reads its files into a buffer the Store keeps (Store.scratch), not a new one.
func (d *decoder) object(field func()) {
	d.eat('{')
	if d.peek() == '}' {
		d.i++
		return
	}
	for !d.bad {
		d.readName()
		d.eat(':')
		if d.bad {
			return
		}
		field()
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return
		default:
			d.bad = true
		}
	}
}

// readName reads a member name for key. A name without escapes (every name this package
// writes) stays in place, without a copy.
func (d *decoder) readName() {
	d.keyFrom, d.keyTo, d.keyCopy = 0, 0, nil
	if d.peek() == '"' {
		for j := d.i + 1; j < len(d.b); j++ {
			c := d.b[j]
			if c == '"' {
				d.keyFrom, d.keyTo = d.i+1, j
				d.i = j + 1
				return
			}
			if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
				break
			}
		}
	}
	d.keyCopy = []byte(d.str())
}

// key returns the name of the member being read (see object). It is kept as offsets into b:
// a slice of b stored in the decoder would make every caller's input escape to the heap.
func (d *decoder) key() []byte {
	if d.keyCopy != nil {
		return d.keyCopy
	}
	return d.b[d.keyFrom:d.keyTo]
}

// str reads a string.
func (d *decoder) str() string {
	if d.peek() != '"' {
		d.bad = true
		return ""
	}
	d.i++
	start := d.i
	for d.i < len(d.b) { // the common case: no escapes, no control characters
		c := d.b[d.i]
		if c == '"' {
			s := d.b[start:d.i]
			d.i++
			if !utf8.Valid(s) {
				d.bad = true
				return ""
			}
			return string(s)
		}
		if c == '\\' || c < 0x20 {
			break
		}
		d.i++
	}
	buf := append([]byte(nil), d.b[start:d.i]...)
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			if !utf8.Valid(buf) {
				d.bad = true
				return ""
			}
			return string(buf)
		case c < 0x20:
			d.bad = true
			return ""
		case c != '\\':
			buf = append(buf, c)
			d.i++
			continue
		}
		if d.i+1 >= len(d.b) {
			break
		}
		d.i += 2
		switch d.b[d.i-1] {
		case '"', '\\', '/':
			buf = append(buf, d.b[d.i-1])
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r := d.hex4()
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if d.i+1 < len(d.b) && d.b[d.i] == '\\' && d.b[d.i+1] == 'u' {
					d.i += 2
					r2 = d.hex4()
				}
				r = utf16.DecodeRune(r, r2) // U+FFFD for a lone surrogate, as encoding/json has it
			}
			if d.bad {
				return ""
			}
			buf = utf8.AppendRune(buf, r)
		default:
			d.bad = true
			return ""
		}
	}
	d.bad = true
	return ""
}

func (d *decoder) hex4() rune {
	if len(d.b)-d.i < 4 {
		d.bad = true
		return 0
	}
	var r rune
	for _, c := range d.b[d.i : d.i+4] {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			d.bad = true
			return 0
		}
	}
	d.i += 4
	return r
}

// number returns the text of a JSON number.
func (d *decoder) number() string {
	d.ws()
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		if !('0' <= c && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
			break
		}
		d.i++
	}
	if d.i == start {
		d.bad = true
	}
	return string(d.b[start:d.i])
}

// int reads an integer that fits in an int64.
func (d *decoder) int() int64 {
	if d.bad {
		return 0
	}
	n, err := strconv.ParseInt(d.number(), 10, 64)
	if err != nil {
		d.bad = true
	}
	return n
}

// time reads a time as encoding/json writes it (RFC 3339 in a string).
func (d *decoder) time() time.Time {
	s := d.str()
	if d.bad {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		d.bad = true
	}
	return t
}

// strs reads an array of strings, or null.
func (d *decoder) strs() []string {
	if d.peek() == 'n' {
		d.literal("null")
		return nil
	}
	d.eat('[')
	list := []string{}
	if d.peek() == ']' {
		d.i++
		return list
	}
	for !d.bad {
		list = append(list, d.str())
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return list
		default:
			d.bad = true
		}
	}
	return nil
}

// strMap reads an object of strings, or null.
func (d *decoder) strMap() map[string]string {
	if d.peek() == 'n' {
		d.literal("null")
		return nil
	}
	m := map[string]string{}
	d.object(func() { m[string(d.key())] = d.str() })
	return m
}

// skip reads any value and forgets it.
func (d *decoder) skip() {
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > maxDepth {
		d.bad = true
		return
	}
	switch c := d.peek(); {
	case c == '"':
		d.str()
	case c == '{':
		d.object(d.skip)
	case c == '[':
		d.i++
		if d.peek() == ']' {
			d.i++
			return
		}
		for !d.bad {
			d.skip()
			switch d.peek() {
			case ',':
				d.i++
			case ']':
				d.i++
				return
			default:
				d.bad = true
			}
		}
	case c == 't':
		d.literal("true")
	case c == 'f':
		d.literal("false")
	case c == 'n':
		d.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		if _, err := strconv.ParseFloat(d.number(), 64); err != nil {
			d.bad = true
		}
	default:
		d.bad = true
	}
}
