package jsonw

import (
	"encoding/json"
	"testing"
)

// Every string, list and map is written byte for byte as encoding/json writes it, hostile input
// included: quotes, every control character, HTML's <>&, invalid UTF-8, U+2028 and U+2029.
func TestMatchesEncodingJSON(t *testing.T) {
	var controls []byte
	for c := 0; c < 0x20; c++ {
		controls = append(controls, byte(c))
	}
	strs := []string{"", "plain", `"quoted" \back\`, string(controls), "<a href='x'>&amp;</a>",
		"bad \xff\xfe utf-8", "line\u2028para\u2029end", "emoji 🦫 and ü", "\x7f"}
	for _, s := range strs {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); string(got) != string(want) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
	}
	want, _ := json.Marshal(strs)
	if got := AppendStrings(nil, strs); string(got) != string(want) {
		t.Errorf("AppendStrings = %s, want %s", got, want)
	}
	m := map[string]string{"z": "<1>", "a": "\x00", "m\u2028": "\xff"}
	want, _ = json.Marshal(m)
	if got := AppendStringMap(nil, m); string(got) != string(want) {
		t.Errorf("AppendStringMap = %s, want %s", got, want)
	}
}
