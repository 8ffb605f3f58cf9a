package audit

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// hostile are strings a repository name, a CI variable or a working directory may carry.
var hostile = []string{
	"", "plain", `quote " and backslash \`, "line\nfeed\rreturn\ttab", "nul\x00 bell\x07 esc\x1b del\x7f",
	"\x01\x02\x03\x04\x05\x06\x08\x0b\x0c\x0e\x0f\x10\x1f", "<script>&amp;</script>",
	"separators \u2028 and \u2029", "invalid \xff\xfe utf-8 \xc3", "truncated \xe2\x80", "surrogate \xed\xa0\x80",
	"é ü 日本 🙂", `\u0041 is not an escape here`, "\"}],{\"event\":\"forged\"", strings.Repeat("ab\"", 50),
}

// TestMarshalDecodesAsEncodingJSON holds the hand-written encoder to encoding/json: whatever the
// strings, the line is valid UTF-8 and valid JSON, and decodes to what encoding/json's own
// encoding of the same record decodes to.
func TestMarshalDecodesAsEncodingJSON(t *testing.T) {
	uid := 0
	recs := []line{
		{},
		{Time: "2026-12-01T05:00:00.000Z", Event: EventReuse, Host: "github.com", App: "123", Repositories: []string{}, PID: 7, UID: &uid},
		{Time: "t", Event: EventRevoke, Outcome: "expired", Host: "h", App: "a", Installation: -5, Repositories: []string{"acme/app", "acme/lib"},
			RepositoriesOmitted: 3, Permissions: map[string]string{"metadata": "read", "contents": "write", "a": "b"},
			ExpiresAt: "2026-12-01T06:00:00Z", HashedToken: "x+y/z=", User: "me", PID: 1 << 30, Cwd: "/w", CI: map[string]string{"Z": "1", "A": "2"}},
	}
	for _, s := range hostile {
		u := len(s)
		recs = append(recs, line{Time: s, Event: s, Outcome: s, Host: s, App: s, Installation: int64(len(s)), Repositories: []string{s, s + "x"},
			Permissions: map[string]string{s: s, s + "k": "v"}, ExpiresAt: s, HashedToken: s, User: s, UID: &u, PID: len(s), Cwd: s, CI: map[string]string{s: s}})
	}
	for _, rec := range recs {
		if rec.Repositories == nil {
			rec.Repositories = []string{} // as encode sets it: the list is always there
		}
		got := rec.marshal()
		if !utf8.Valid(got) || !json.Valid(got) || bytes.ContainsAny(got, "\n\r\u2028\u2029") {
			t.Fatalf("marshal(%+v) = %q: not one valid line of UTF-8 JSON", rec, got)
		}
		want, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		var g, w map[string]any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("%q: %v", got, err)
		}
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("marshal decodes to\n%v\nencoding/json's to\n%v\n(line %q)", g, w, got)
		}
		if !bytes.Equal(got, want) {
			// Same escapes, same order: byte for byte the same, which keeps old and new lines alike.
			t.Errorf("marshal = %s\nencoding/json = %s", got, want)
		}
	}
}

func BenchmarkMarshal(b *testing.B) {
	uid := 1000
	rec := line{Time: "2026-12-01T05:00:00.000Z", Event: EventReuse, Host: "github.com", App: "123", Installation: 42,
		Repositories: []string{"acme/app"}, Permissions: map[string]string{"contents": "write", "metadata": "read"},
		ExpiresAt: "2026-12-01T06:00:00Z", HashedToken: "eXwM5BRYbMjraSmv6UfHIOPk01HdBwpv459jC+qrMFQ=", User: "me", UID: &uid, PID: 1234, Cwd: "/home/me/src/app"}
	for b.Loop() {
		rec.marshal()
	}
}
