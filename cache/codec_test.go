package cache

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash/fnv"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/adrg/xdg"
)

// odd holds every kind of character a string in a cache file can meet.
const odd = "quote\" backslash\\ slash/ nl\n tab\t nul\x00 bell\x07 del\x7f é 日本 \u2028 emoji😀 <&>"

func fullEntry() *Entry {
	return &Entry{
		Key: Key{Host: "GitHub.example.com:8443", App: "Iv1.abc", InstallationID: 1<<53 + 1,
			Repositories: []string{"app", "lib." + odd}, Permissions: map[string]string{"contents": "write", "z" + odd: "read"}},
		Token:               "ghs_" + strings.Repeat("x.", 260),
		ExpiresAt:           time.Date(2026, 11, 25, 13, 0, 0, 123456789, time.UTC),
		CreatedAt:           time.Date(2026, 11, 25, 12, 0, 0, 0, time.FixedZone("", -7*3600)),
		Permissions:         map[string]string{"contents": "write", "metadata": "read"},
		RepositorySelection: "selected",
		Repositories:        []string{"acme/app", odd},
	}
}

func sameEntry(t *testing.T, got, want *Entry) {
	t.Helper()
	if !got.ExpiresAt.Equal(want.ExpiresAt) || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Fatalf("times: got %v %v, want %v %v", got.ExpiresAt, got.CreatedAt, want.ExpiresAt, want.CreatedAt)
	}
	g, w := *got, *want
	g.ExpiresAt, g.CreatedAt, w.ExpiresAt, w.CreatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("got  %+v\nwant %+v", g, w)
	}
}

// TestCodecMatchesEncodingJSON: the files are what encoding/json writes, so the files of
// earlier versions are read, and any JSON tool can read ours.
func TestCodecMatchesEncodingJSON(t *testing.T) {
	for name, e := range map[string]*Entry{"full": fullEntry(), "minimal": {Key: Key{Host: "github.com", App: "1", InstallationID: 2}, Token: "ghs_a"}} {
		t.Run(name, func(t *testing.T) {
			ours := encodeEntry(e)
			theirs, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			var fromOurs Entry
			if err := json.Unmarshal(ours, &fromOurs); err != nil {
				t.Fatalf("encoding/json cannot read %s: %v", ours, err)
			}
			sameEntry(t, &fromOurs, e)
			got, ok := decodeEntry(theirs)
			if !ok {
				t.Fatalf("cannot read what encoding/json wrote: %s", theirs)
			}
			sameEntry(t, got, e)
			got, ok = decodeEntry(ours)
			if !ok {
				t.Fatalf("cannot read our own file: %s", ours)
			}
			sameEntry(t, got, e)
		})
	}

	m := &mapping{Host: "GitHub.com", App: odd, Target: "repo:" + odd, InstallationID: 42, Account: "acme", StoredAt: now}
	theirs, _ := json.Marshal(m)
	if got, ok := decodeMapping(theirs); !ok || *got != *m {
		t.Fatalf("mapping: %+v, %v", got, ok)
	}
	var back mapping
	if err := json.Unmarshal(encodeMapping(m), &back); err != nil || back != *m {
		t.Fatalf("mapping through encoding/json: %+v, %v", back, err)
	}
	c := &clockOffset{Host: "github.com", Offset: -90 * time.Second}
	theirs, _ = json.Marshal(c)
	if got, ok := decodeClock(theirs); !ok || *got != *c {
		t.Fatalf("clock: %+v, %v", got, ok)
	}
}

func TestDecodeIsStrict(t *testing.T) {
	good := string(encodeEntry(fullEntry()))
	for name, data := range map[string]string{
		"trailing data":       good + "{}",
		"two values":          good + good,
		"not an object":       `["token"]`,
		"token a number":      `{"token":7}`,
		"bad time":            `{"token":"a","expires_at":"soon"}`,
		"id a string":         `{"key":{"installation_id":"42"},"token":"a"}`,
		"id a fraction":       `{"key":{"installation_id":4.2},"token":"a"}`,
		"id too large":        `{"key":{"installation_id":99999999999999999999},"token":"a"}`,
		"control character":   "{\"token\":\"a\nb\"}",
		"bad escape":          `{"token":"a\qb"}`,
		"short unicode":       `{"token":"a\u00"}`,
		"unterminated string": `{"token":"abc`,
		"missing colon":       `{"token" "abc"}`,
		"trailing comma":      `{"token":"abc",}`,
		"invalid UTF-8":       "{\"token\":\"a\xffb\"}",
		"deep nesting":        `{"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `,"token":"a"}`,
		"bad literal":         `{"x":nul,"token":"a"}`,
		"empty":               ``,
	} {
		if e, ok := decodeEntry([]byte(data)); ok {
			t.Errorf("%s: decoded %+v", name, e)
		}
	}
	// Fields it does not know are skipped, whatever their value.
	e, ok := decodeEntry([]byte(` { "future" : {"a":[1,-2.5e3,true,false,null,"s",{}]}, "token" : "ghs_a" , "key":{"host":"h","new":[]} } `))
	if !ok || e.Token != "ghs_a" || e.Key.Host != "h" {
		t.Fatalf("unknown fields: %+v, %v", e, ok)
	}
	// Escapes, surrogate pairs included.
	e, ok = decodeEntry([]byte(`{"token":"\u0067hs\/\"\\\b\f\n\r\t\ud83d\ude00\u00e9"}`))
	if !ok || e.Token != "ghs/\"\\\b\f\n\r\t😀é" {
		t.Fatalf("escapes: %q, %v", e.Token, ok)
	}
}

// FuzzDecodeEntry: no input makes the decoder panic or hang, and whatever it accepts survives
// being written and read again unchanged.
func FuzzDecodeEntry(f *testing.F) {
	f.Add(encodeEntry(fullEntry()))
	f.Add([]byte(`{"key":{"repositories":null,"permissions":null},"token":"\ud800"}`))
	f.Add([]byte(`{"a":[[[{"b":1e9}]]]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, ok := decodeEntry(data)
		if !ok {
			return
		}
		again, ok := decodeEntry(encodeEntry(e))
		if !ok {
			t.Fatalf("cannot read back %+v", e)
		}
		norm := func(x *Entry) *Entry { // nil and empty are the same once omitted
			c := *x
			for _, p := range []*[]string{&c.Key.Repositories, &c.Repositories} {
				if len(*p) == 0 {
					*p = nil
				}
			}
			for _, p := range []*map[string]string{&c.Key.Permissions, &c.Permissions} {
				if len(*p) == 0 {
					*p = nil
				}
			}
			return &c
		}
		sameEntry(t, norm(again), norm(e))
	})
}

// TestDefaultDirMatchesXDG: without github.com/adrg/xdg on the path, the cache stays where that
// package put it.
func TestDefaultDirMatchesXDG(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", "")
	home := t.TempDir()
	cases := []map[string]string{
		{"XDG_CACHE_HOME": ""},
		{"XDG_CACHE_HOME": filepath.Join(home, "abs")},
		{"XDG_CACHE_HOME": "relative/dir"},
	}
	if runtime.GOOS == "windows" {
		cases = append(cases, map[string]string{"XDG_CACHE_HOME": `%USERPROFILE%\x`})
	} else {
		cases = append(cases,
			map[string]string{"XDG_CACHE_HOME": "~/tilde"},
			map[string]string{"XDG_CACHE_HOME": "$HOME/dollar"},
			map[string]string{"XDG_CACHE_HOME": "", "HOME": ""},
			map[string]string{"XDG_CACHE_HOME": "~/tilde", "HOME": ""})
	}
	for _, env := range cases {
		t.Setenv("HOME", home)
		for k, v := range env {
			t.Setenv(k, v)
		}
		xdg.Reload()
		if got, want := DefaultDir(), filepath.Join(xdg.CacheHome, DirName); got != want {
			t.Errorf("%v: DefaultDir = %s, xdg says %s", env, got, want)
		}
	}
	xdg.Reload()
}

// TestFNV128aIsHashFNV: the hand-written hash that names cache files is hash/fnv's FNV-1a 128,
// so that names stay what earlier versions wrote.
func TestFNV128aIsHashFNV(t *testing.T) {
	check := func(s string) {
		t.Helper()
		h := fnv.New128a()
		h.Write([]byte(s))
		want := h.Sum(nil)
		hi, lo := fnv128a(s)
		var got [16]byte
		binary.BigEndian.PutUint64(got[:8], hi)
		binary.BigEndian.PutUint64(got[8:], lo)
		if !bytes.Equal(got[:], want) {
			t.Fatalf("fnv128a(%q) = %x, hash/fnv says %x", s, got, want)
		}
		if d := digest(s); d != hex.EncodeToString(want) {
			t.Fatalf("digest(%q) = %s, want %x", s, d, want)
		}
	}
	for _, s := range []string{"", "a", "installation/v1\x00github.com\x00123\x00repo:acme/app", strings.Repeat("\xff", 300)} {
		check(s)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, r.IntN(200))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		check(string(b))
	}
}

// TestDecodeEscapedNames: member names with escapes are unescaped before they are matched, in
// nested objects and maps too, and a plain name after an escaped one is read in place again.
func TestDecodeEscapedNames(t *testing.T) {
	e, ok := decodeEntry([]byte(`{"k\u0065y":{"h\u006fst":"h","app":"1","perm\u0069ssions":{"c\u006fntents":"read","issues":"write"}},"t\u006Fken":"ghs_x","expires_at":"2026-01-02T03:04:05Z"}`))
	if !ok || e.Key.Host != "h" || e.Key.App != "1" || e.Token != "ghs_x" || e.ExpiresAt.IsZero() ||
		e.Key.Permissions["contents"] != "read" || e.Key.Permissions["issues"] != "write" {
		t.Fatalf("escaped names: %+v, %v", e, ok)
	}
	m, ok := decodeMapping([]byte(`{"\u0068ost":"github.com","target":"acme","installation_id":7}`))
	if !ok || m.Host != "github.com" || m.Target != "acme" || m.InstallationID != 7 {
		t.Fatalf("escaped mapping names: %+v, %v", m, ok)
	}
}
