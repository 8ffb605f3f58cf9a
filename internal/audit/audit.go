// Package audit appends one JSON line per token event (mint, reuse, erase, revoke) to a file, so
// that a line of GitHub's enterprise audit log can be traced to the machine, user and CI job that
// minted or used the token. A line carries the token's hashed_token as GitHub's audit log records
// it, never the token.
//
// Appends from concurrent processes never interleave: each line is written by one write(2) on a
// file opened with O_APPEND, and lines are kept under LineLimit bytes (see Log.Record). A file that
// cannot be written is reported through Log.Warn and never stops the caller.
//
// Only the full helper records: the front that git starts for every operation does not link
// this package (SHA-256 would bring Go's FIPS 140 module into every cached get), and hands every
// get and erase over to the full helper when an audit log is configured. The line is encoded by
// hand (no encoding/json), and the user database (os/user) is read only when a line is written.
package audit

import (
	"crypto/sha256"
	"encoding/base64"
	"os"
	"os/user"
	"runtime"
	"slices"
	"syscall"
	"time"
)

// Events.
const (
	EventMint   = "mint"   // a token was minted at GitHub
	EventReuse  = "reuse"  // a token another process minted was handed out from the cache
	EventErase  = "erase"  // git reported a token as rejected; it was forgotten (not revoked)
	EventRevoke = "revoke" // a token was revoked at GitHub (or forgotten as already dead) by `revoke`
)

// LineLimit bounds one line, newline included. Up to PIPE_BUF (4096 on Linux; 512 is the POSIX
// minimum, macOS has 512) a write to a pipe or FIFO is atomic too, so a log shipper reading a FIFO
// sees whole lines; on a regular file opened with O_APPEND a single write(2) is atomic at any size
// on Linux and the BSDs (the inode lock covers it), but the limit keeps the promise simple. A line
// that would be longer loses repositories from its list (repositories_omitted says how many).
const LineLimit = 4096

// ciVariables are the CI job identifiers recorded when set: enough to find the job that used a
// token in each system's own UI or API.
var ciVariables = []string{
	// GitHub Actions
	"GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT", "GITHUB_JOB", "GITHUB_WORKFLOW_REF", "GITHUB_ACTOR",
	// GitLab CI
	"CI_SERVER_URL", "CI_PROJECT_PATH", "CI_PIPELINE_ID", "CI_JOB_ID", "CI_JOB_URL",
	// Jenkins
	"JENKINS_URL", "JOB_NAME", "BUILD_NUMBER", "BUILD_URL",
	// Buildkite
	"BUILDKITE_ORGANIZATION_SLUG", "BUILDKITE_PIPELINE_SLUG", "BUILDKITE_BUILD_ID", "BUILDKITE_BUILD_URL", "BUILDKITE_JOB_ID", "BUILDKITE_AGENT_NAME",
	// CircleCI, Azure Pipelines, Travis CI
	"CIRCLE_BUILD_URL", "CIRCLE_WORKFLOW_ID", "BUILD_BUILDID", "SYSTEM_JOBID", "TRAVIS_JOB_ID",
	// Kubernetes (set by the recipe's pod spec from the downward API)
	"POD_NAMESPACE", "POD_NAME",
}

// Event is what happened to one token. Token is only hashed; it is never written.
type Event struct {
	Event          string            // one of the Event constants
	Host           string            // the git host, e.g. "github.com"
	App            string            // the App ID or Client ID
	InstallationID int64             // 0 when unknown
	Repositories   []string          // what the token covers; empty = every repository of the installation
	Permissions    map[string]string // as granted (or asked for)
	ExpiresAt      time.Time         // zero when unknown
	Token          string            // hashed into hashed_token
	Outcome        string            // optional detail, e.g. "expired" for a revoke that only forgot
}

// Log appends events to a file. The zero value and a nil *Log record nothing.
type Log struct {
	// Path is the file; "" turns the log off.
	Path string
	// Warn receives one line when the file cannot be written; nil = silent.
	Warn func(string)
	// Getenv reads the CI variables; nil = os.Getenv.
	Getenv func(string) string
	// Now is the clock; nil = time.Now.
	Now func() time.Time

	warned bool
}

// HashToken returns the token as GitHub's enterprise audit log records it in hashed_token: the
// standard (padded) base64 encoding of the SHA-256 of the token, the same as
// `printf %s TOKEN | openssl dgst -sha256 -binary | base64` (GitHub Docs, "Identifying audit log
// events performed by an access token": https://docs.github.com/en/enterprise-cloud@latest/admin/monitoring-activity-in-your-enterprise/reviewing-audit-logs-for-your-enterprise/identifying-audit-log-events-performed-by-an-access-token).
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// line is one record; the field order is the order in the file. It is encoded by marshal; the
// tags say what encoding/json would write, which the tests hold marshal to.
type line struct {
	Time                string            `json:"time"`
	Event               string            `json:"event"`
	Outcome             string            `json:"outcome,omitempty"`
	Host                string            `json:"host"`
	App                 string            `json:"app"`
	Installation        int64             `json:"installation,omitempty"`
	Repositories        []string          `json:"repositories"`
	RepositoriesOmitted int               `json:"repositories_omitted,omitempty"`
	Permissions         map[string]string `json:"permissions,omitempty"`
	ExpiresAt           string            `json:"expires_at,omitempty"`
	HashedToken         string            `json:"hashed_token,omitempty"`
	User                string            `json:"user,omitempty"`
	UID                 *int              `json:"uid,omitempty"`
	PID                 int               `json:"pid"`
	Cwd                 string            `json:"cwd,omitempty"`
	CI                  map[string]string `json:"ci,omitempty"`
}

// Record appends one line for ev. It never fails the caller: when the file cannot be opened or
// written, Warn is told once (per Log) and the event is dropped. The file is created 0600.
func (l *Log) Record(ev Event) {
	if l == nil || l.Path == "" {
		return
	}
	b, err := l.encode(ev)
	if err == nil {
		err = appendLine(l.Path, b)
	}
	if err != nil && l.Warn != nil && !l.warned {
		l.warned = true
		l.Warn("cannot write the audit log: " + err.Error() + " (the credential was still given to git)")
	}
}

// encode renders ev as one line of at most LineLimit bytes, newline included.
func (l *Log) encode(ev Event) ([]byte, error) {
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	getenv := os.Getenv
	if l.Getenv != nil {
		getenv = l.Getenv
	}
	rec := line{
		Time:         now().UTC().Format("2006-01-02T15:04:05.000Z"),
		Event:        ev.Event,
		Outcome:      ev.Outcome,
		Host:         ev.Host,
		App:          ev.App,
		Installation: ev.InstallationID,
		Repositories: slices.Clone(ev.Repositories),
		Permissions:  ev.Permissions,
		PID:          os.Getpid(),
	}
	if rec.Repositories == nil {
		rec.Repositories = []string{}
	}
	if !ev.ExpiresAt.IsZero() {
		rec.ExpiresAt = ev.ExpiresAt.UTC().Format(time.RFC3339)
	}
	if ev.Token != "" {
		rec.HashedToken = HashToken(ev.Token)
	}
	if runtime.GOOS != "windows" {
		uid := os.Getuid()
		rec.UID = &uid
	}
	rec.User = userName()
	rec.Cwd, _ = os.Getwd()
	for _, k := range ciVariables {
		if v := getenv(k); v != "" {
			if rec.CI == nil {
				rec.CI = map[string]string{}
			}
			rec.CI[k] = v
		}
	}
	ciCut, permsCut := false, false
	for {
		b := rec.marshal()
		if len(b)+1 <= LineLimit {
			return append(b, '\n'), nil
		}
		// Too long: drop repositories from the end first, then the free-form fields.
		switch {
		case len(rec.Repositories) > 0:
			cut := max(1, len(rec.Repositories)/4)
			rec.Repositories = rec.Repositories[:len(rec.Repositories)-cut]
			rec.RepositoriesOmitted += cut
		case rec.CI != nil && !ciCut:
			rec.CI, ciCut = map[string]string{"truncated": "true"}, true
		case rec.Cwd != "" || rec.User != "":
			rec.Cwd, rec.User = "", ""
		case !permsCut:
			rec.Permissions, permsCut = map[string]string{"truncated": "true"}, true
		default:
			return nil, errTooLong
		}
	}
}

type auditError string

func (e auditError) Error() string { return string(e) }

const errTooLong = auditError("an audit line does not fit in 4096 bytes")

// userName is the account name of the process's user as the local user database knows it
// (/etc/passwd, or Windows' account of the process token); "" when it has no entry, as in a
// container run with an arbitrary uid (the line still carries uid). The environment's $USER is
// not used: it is a claim, not a fact.
func userName() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

// appendLine writes b to path with one write(2) on a descriptor opened with O_APPEND, so that
// lines from concurrent processes never interleave. The file is created 0600 when missing.
func appendLine(path string, b []byte) error {
	// O_NONBLOCK: opening a FIFO that nobody reads fails at once (ENXIO) instead of waiting for
	// a reader forever, which would hang git's get. It changes nothing for a regular file, and a
	// line (at most PIPE_BUF bytes) still goes into a read FIFO whole or not at all.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NONBLOCK, 0o600)
	if err != nil {
		return err
	}
	n, err := f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n != len(b) {
		err = auditError("short write")
	}
	return err
}
