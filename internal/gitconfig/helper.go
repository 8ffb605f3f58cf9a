package gitconfig

import (
	"errors"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
)

// CredentialPattern is the `git config --get-regexp` pattern that reads every credential line,
// which is what SetupChanges, RemoveChanges and HelpersFor look at.
const CredentialPattern = `^credential\.`

// Helper is the credential-helper configuration for one app: git asks Command for every URL
// under URL, and sends the repository's path to the helpers of HostURL (useHttpPath), so that
// the helper can tell which repository a request is for.
type Helper struct {
	// URL is where the helper applies, e.g. "https://github.com" or "https://github.com/acme".
	URL string
	// HostURL is the host's root, e.g. "https://github.com"; useHttpPath is set for it.
	HostURL string
	// Command is the helper as git runs it, e.g. "ghapp --app-id 123".
	Command string
	// AppID, when set, limits RemoveChanges to this tool's helpers for that app id.
	AppID string
}

func (h Helper) helperKey() string { return "credential." + h.URL + ".helper" }
func (h Helper) pathKey() string   { return "credential." + h.HostURL + ".useHttpPath" }
func (h Helper) markKey() string   { return "credential." + h.HostURL + "." + SetupMark }

// SetupMark is the variable (under credential.HOSTURL) by which setup records that it set
// useHttpPath itself, so that `setup --remove` takes out a useHttpPath line only when setup
// wrote it. git ignores credential variables it does not know.
const SetupMark = "ghappSetUseHttpPath"

// SetupChanges returns the changes that make a file whose credential lines are entries (read
// with CredentialPattern) hold h:
//
//   - the helper key of URL with exactly two values, in order: "" and Command. The empty value
//     makes git forget the helpers configured before it for this URL (a system-wide keychain
//     helper, say, that may hold a person's token, or would store and later replay the app's
//     short-lived tokens); this is what `gh auth setup-git` does too. Other values this exact
//     key had are replaced.
//   - useHttpPath true for HostURL; when the file did not already say so, SetupMark true beside
//     it, the record that setup wrote it.
//
// It returns nil when the file already holds exactly that, so that applying the result twice
// changes nothing the second time.
func (h Helper) SetupChanges(entries []Entry) []Change {
	var changes []Change
	if !slices.Equal(values(entries, h.URL, "helper"), []string{"", h.Command}) {
		changes = append(changes,
			Change{Args: []string{"--replace-all", h.helperKey(), ""}},
			Change{Args: []string{"--add", h.helperKey(), h.Command}})
	}
	if !lastIsTrue(entries, h.HostURL, "usehttppath") {
		changes = append(changes,
			Change{Args: []string{"--replace-all", h.pathKey(), "true"}},
			Change{Args: []string{"--replace-all", h.markKey(), "true"}})
	}
	return changes
}

// IsOwnHelper reports whether a credential.helper value runs git-credential-ghapp: "ghapp ..."
// (git runs "git credential-ghapp ...") or the program's absolute path, possibly quoted.
func IsOwnHelper(value string) bool {
	words, err := SplitCommand(value)
	if err != nil || len(words) == 0 {
		return false
	}
	if words[0] == "ghapp" {
		return true
	}
	p := strings.ReplaceAll(words[0], `\`, "/")
	if !strings.Contains(p, "/") {
		return false
	}
	base := path.Base(p)
	return base == "git-credential-ghapp" || base == "git-credential-ghapp.exe"
}

// HelperAppID returns the app id a helper value of this tool passes with --app-id ("" when it
// passes none, or the value is not this tool's).
func HelperAppID(value string) string {
	words, err := SplitCommand(value)
	if err != nil || !IsOwnHelper(value) {
		return ""
	}
	id := ""
	for i := 1; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "--app-id" || w == "-app-id":
			if i+1 < len(words) {
				id = words[i+1]
				i++
			}
		case strings.HasPrefix(w, "--app-id=") || strings.HasPrefix(w, "-app-id="):
			_, id, _ = strings.Cut(w, "=")
		case w == "--":
			return id
		}
	}
	return id
}

// OwnAppIDs returns the distinct app ids of this tool's helpers for URL in entries, in order.
func (h Helper) OwnAppIDs(entries []Entry) []string {
	var ids []string
	for _, v := range values(entries, h.URL, "helper") {
		if id := HelperAppID(v); IsOwnHelper(v) && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// RemoveChanges returns the changes that take out of a file (whose credential lines are
// entries) what SetupChanges put in, and nothing else:
//
//   - the helper key of URL loses the values that run this tool (IsOwnHelper) for AppID (any app
//     id when AppID is ""), each removed by its exact value; when no other helper is left under
//     the key, the key goes entirely (the "" reset with it), otherwise the reset stays so that
//     the remaining helpers keep their meaning;
//   - useHttpPath of HostURL goes too, with SetupMark, only when SetupMark says setup wrote it
//     and no other helper remains configured for the host or a URL under it in this file (this
//     tool's for another owner or app counts).
//
// It returns nil when the file holds none of those helpers for URL: a useHttpPath line the user
// wrote is never touched. Git removes a section left empty.
func (h Helper) RemoveChanges(entries []Entry) []Change {
	var remove []string
	others := 0
	for _, v := range values(entries, h.URL, "helper") {
		switch {
		case IsOwnHelper(v) && (h.AppID == "" || HelperAppID(v) == h.AppID):
			if !slices.Contains(remove, v) {
				remove = append(remove, v)
			}
		case v != "":
			others++
		}
	}
	if len(remove) == 0 {
		return nil
	}
	var changes []Change
	if others == 0 {
		changes = append(changes, Change{Args: []string{"--unset-all", h.helperKey()}})
	} else {
		for _, v := range remove {
			changes = append(changes, Change{Args: []string{"--unset-all", "--fixed-value", h.helperKey(), v}})
		}
	}
	if lastIsTrue(entries, h.HostURL, strings.ToLower(SetupMark)) && !h.otherHelperForHost(entries) {
		changes = append(changes,
			Change{Args: []string{"--unset-all", h.pathKey()}},
			Change{Args: []string{"--unset-all", h.markKey()}})
	}
	return changes
}

// otherHelperForHost reports whether entries configure, for HostURL or a URL under it, a helper
// that RemoveChanges leaves in place (including this tool's helpers for other URLs, such as
// another owner's setup).
func (h Helper) otherHelperForHost(entries []Entry) bool {
	for _, e := range entries {
		sub, name, ok := splitKey(e.Key)
		if !ok || name != "helper" || e.Value == "" || (sub == h.URL && IsOwnHelper(e.Value) && (h.AppID == "" || HelperAppID(e.Value) == h.AppID)) {
			continue
		}
		if sub == h.HostURL || strings.HasPrefix(sub, strings.TrimSuffix(h.HostURL, "/")+"/") {
			return true
		}
	}
	return false
}

// HelpersFor returns the helper lines git uses for a request to rawURL, in the order git asks
// them, given every credential line git reads (Effective, with CredentialPattern): the lines of
// credential.helper and of each credential.<url>.helper whose URL matches, in the order of the
// configuration, where an empty value drops the helpers before it. This mirrors git's own
// rules closely enough to diagnose a setup; it is not used to answer requests.
func HelpersFor(entries []Entry, rawURL string) []Entry {
	var helpers []Entry
	for _, e := range entries {
		sub, name, ok := splitKey(e.Key)
		if !ok || name != "helper" {
			continue
		}
		if sub != "" && !URLMatches(sub, rawURL) {
			continue
		}
		if e.Value == "" {
			helpers = helpers[:0]
			continue
		}
		helpers = append(helpers, e)
	}
	return helpers
}

// URLMatches reports whether the URL of a configuration subsection (such as
// "https://github.com/acme") applies to rawURL, as git matches them: same scheme, same user
// when the pattern names one, same host (a "*" label in the pattern matches any one label) and
// port (the scheme's default when absent), and the pattern's path a prefix of rawURL's at a "/".
func URLMatches(pattern, rawURL string) bool {
	p, err := url.Parse(pattern)
	if err != nil || p.Host == "" {
		return false
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return false
	}
	if !strings.EqualFold(p.Scheme, u.Scheme) {
		return false
	}
	if p.User != nil && (u.User == nil || p.User.Username() != u.User.Username()) {
		return false
	}
	if port(p) != port(u) {
		return false
	}
	pl := strings.Split(strings.ToLower(p.Hostname()), ".")
	ul := strings.Split(strings.ToLower(u.Hostname()), ".")
	if len(pl) != len(ul) {
		return false
	}
	for i := range pl {
		if pl[i] != "*" && pl[i] != ul[i] {
			return false
		}
	}
	pp := strings.TrimSuffix(p.Path, "/")
	return pp == "" || u.Path == pp || strings.HasPrefix(u.Path, pp+"/")
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// splitKey splits "credential.SUB.name" into SUB ("" for "credential.name") and the lower-cased
// variable name.
func splitKey(key string) (sub, name string, ok bool) {
	const prefix = "credential."
	if len(key) <= len(prefix) || !strings.EqualFold(key[:len(prefix)], prefix) {
		return "", "", false
	}
	rest := key[len(prefix):]
	i := strings.LastIndexByte(rest, '.')
	if i < 0 {
		return "", strings.ToLower(rest), true
	}
	return rest[:i], strings.ToLower(rest[i+1:]), true
}

// values returns the values of credential.SUB.NAME in entries, in order; a bare boolean key
// counts as "true".
func values(entries []Entry, sub, name string) []string {
	var vs []string
	for _, e := range entries {
		s, n, ok := splitKey(e.Key)
		if !ok || s != sub || n != name {
			continue
		}
		if e.NoValue {
			vs = append(vs, "true")
		} else {
			vs = append(vs, e.Value)
		}
	}
	return vs
}

// lastIsTrue reports whether the last value of credential.SUB.NAME is true as git reads booleans.
func lastIsTrue(entries []Entry, sub, name string) bool {
	vs := values(entries, sub, name)
	if len(vs) == 0 {
		return false
	}
	return ParseBool(vs[len(vs)-1])
}

// ParseBool reads a value as git reads a boolean: true, yes, on and non-zero numbers are true.
func ParseBool(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "yes", "on":
		return true
	case "", "false", "no", "off":
		return false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 0, 64)
	return err == nil && n != 0
}

// SplitCommand splits a helper value into words as a POSIX shell would, for the quoting this
// package writes and people usually type: single quotes, double quotes (where a backslash
// escapes \, ", $ and `), and backslash escapes outside quotes. It fails on an unterminated
// quote. It does not expand variables, "~" or globs.
func SplitCommand(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated ' in the helper command")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\\\"$`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New(`unterminated " in the helper command`)
			}
			inWord = true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
