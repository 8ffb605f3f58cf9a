package fakegithub

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// lfsCall sends a request to the fake outside /api/v3 with Basic x-access-token:token ("" for
// none) or, when auth starts with "RemoteAuth", that header as given.
func lfsCall(t *testing.T, s *Server, method, url, auth string, body []byte) result {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", lfsMediaType)
	req.Header.Set("Content-Type", lfsMediaType)
	switch {
	case strings.HasPrefix(auth, "RemoteAuth "):
		req.Header.Set("Authorization", auth)
	case auth != "":
		req.SetBasicAuth("x-access-token", auth)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, header: resp.Header, body: b}
}

type batchAnswer struct {
	Transfer string      `json:"transfer"`
	Objects  []lfsObject `json:"objects"`
}

func batch(t *testing.T, s *Server, repo, token, op, oid string, size int) (result, batchAnswer) {
	t.Helper()
	body := `{"operation":"` + op + `","transfers":["basic"],"objects":[{"oid":"` + oid + `","size":` + strconv.Itoa(size) + `}]}`
	res := lfsCall(t, s, "POST", s.URL+"/"+repo+".git/info/lfs/objects/batch", token, []byte(body))
	var ans batchAnswer
	if res.status == http.StatusOK {
		if err := json.Unmarshal(res.body, &ans); err != nil {
			t.Fatalf("batch answer: %v: %s", err, res.body)
		}
	}
	return res, ans
}

// The batch API checks the token as GitHub's git endpoint does: a token for another repository
// gets 404, a read-only token may download but not upload, and the transfer hrefs accept only
// the header their action carried.
func TestLFSBatchAndTransfer(t *testing.T) {
	s := newServer(t)
	app := s.NewApp("lfs-bot")
	for _, r := range []string{"acme/media", "acme/other"} {
		if err := s.AddRepo(r); err != nil {
			t.Fatal(err)
		}
	}
	inst := s.Install(app, "acme", "Organization", map[string]string{"contents": "write", "metadata": "read"})
	writer := mintToken(t, s, app, inst, `{"repositories":["media"]}`)
	reader := mintToken(t, s, app, inst, `{"repositories":["media"],"permissions":{"contents":"read"}}`)
	otherRepo := mintToken(t, s, app, inst, `{"repositories":["other"]}`)

	content := []byte("a large file, in spirit\n")
	sum := sha256.Sum256(content)
	oid := hex.EncodeToString(sum[:])

	// No credentials: 401 with LFS-Authenticate, so git-lfs asks the credential helpers.
	res, _ := batch(t, s, "acme/media", "", "upload", oid, len(content))
	if res.status != http.StatusUnauthorized || res.header.Get("LFS-Authenticate") == "" || res.header.Get("Content-Type") != lfsMediaType {
		t.Fatalf("no auth: %d %v %s", res.status, res.header, res.body)
	}
	// A token for another repository: GitHub does not reveal the repository.
	if res, _ := batch(t, s, "acme/media", otherRepo, "download", oid, len(content)); res.status != http.StatusNotFound {
		t.Fatalf("other repository's token: %d %s", res.status, res.body)
	}
	// Read-only: no upload.
	if res, _ := batch(t, s, "acme/media", reader, "upload", oid, len(content)); res.status != http.StatusForbidden ||
		!strings.Contains(res.message(t), "denied to lfs-bot[bot]") {
		t.Fatalf("read-only upload: %d %s", res.status, res.body)
	}
	// A missing object is a per-object 404 in a 200 answer.
	res, ans := batch(t, s, "acme/media", reader, "download", oid, len(content))
	if res.status != http.StatusOK || len(ans.Objects) != 1 || ans.Objects[0].Error == nil || ans.Objects[0].Error.Code != 404 {
		t.Fatalf("download of a missing object: %d %s", res.status, res.body)
	}

	// Upload with the write token: upload and verify actions.
	res, ans = batch(t, s, "acme/media", writer, "upload", oid, len(content))
	if res.status != http.StatusOK || ans.Transfer != "basic" || len(ans.Objects) != 1 {
		t.Fatalf("upload batch: %d %s", res.status, res.body)
	}
	up, verify := ans.Objects[0].Actions["upload"], ans.Objects[0].Actions["verify"]
	if up.Href == "" || verify.Href == "" || !ans.Objects[0].Authenticated || up.ExpiresIn <= 0 {
		t.Fatalf("upload actions: %s", res.body)
	}
	if strings.Contains(string(res.body), writer) {
		t.Fatal("the batch answer repeats the installation token")
	}
	// The installation token itself does not open the transfer href; only the action's header does.
	if res := lfsCall(t, s, "PUT", up.Href, writer, content); res.status != http.StatusUnauthorized {
		t.Fatalf("PUT with the installation token: %d", res.status)
	}
	if res := lfsCall(t, s, "PUT", up.Href, up.Header["Authorization"], []byte("not the content")); res.status != http.StatusUnprocessableEntity {
		t.Fatalf("PUT of content that does not match the oid: %d %s", res.status, res.body)
	}
	if _, ok := s.LFSObject("acme/media", oid); ok {
		t.Fatal("a wrong upload was stored")
	}
	if res := lfsCall(t, s, "PUT", up.Href, up.Header["Authorization"], content); res.status != http.StatusOK {
		t.Fatalf("PUT: %d %s", res.status, res.body)
	}
	vbody := []byte(`{"oid":"` + oid + `","size":` + strconv.Itoa(len(content)) + `}`)
	if res := lfsCall(t, s, "POST", verify.Href, verify.Header["Authorization"], vbody); res.status != http.StatusOK {
		t.Fatalf("verify: %d %s", res.status, res.body)
	}
	if got, ok := s.LFSObject("acme/media", oid); !ok || !bytes.Equal(got, content) {
		t.Fatalf("stored object %q %v", got, ok)
	}
	// Uploading what the server has: no actions.
	if _, ans := batch(t, s, "acme/media", writer, "upload", oid, len(content)); ans.Objects[0].Actions != nil {
		t.Fatalf("upload of a stored object still has actions: %+v", ans.Objects[0])
	}

	// Download with the read-only token.
	res, ans = batch(t, s, "acme/media", reader, "download", oid, len(content))
	dl := ans.Objects[0].Actions["download"]
	if res.status != http.StatusOK || dl.Href == "" {
		t.Fatalf("download batch: %d %s", res.status, res.body)
	}
	if res := lfsCall(t, s, "GET", dl.Href, "", nil); res.status != http.StatusUnauthorized {
		t.Fatalf("GET without the action's header: %d", res.status)
	}
	if res := lfsCall(t, s, "GET", dl.Href, up.Header["Authorization"], nil); res.status != http.StatusUnauthorized {
		t.Fatalf("GET with an upload grant: %d", res.status)
	}
	if res := lfsCall(t, s, "GET", dl.Href, dl.Header["Authorization"], nil); res.status != http.StatusOK || !bytes.Equal(res.body, content) {
		t.Fatalf("GET: %d %q", res.status, res.body)
	}
	// The grant is for acme/media only.
	if res := lfsCall(t, s, "GET", strings.Replace(dl.Href, "/acme/media/", "/acme/other/", 1), dl.Header["Authorization"], nil); res.status != http.StatusUnauthorized {
		t.Fatalf("GET of another repository's path with the grant: %d", res.status)
	}
	// Revoked tokens are refused.
	s.RevokeAll()
	if res, _ := batch(t, s, "acme/media", reader, "download", oid, len(content)); res.status != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d", res.status)
	}
	if n := s.Count(RouteLFSBatch); n != 8 {
		t.Fatalf("Count(batch) = %d, want 8", n)
	}
}
