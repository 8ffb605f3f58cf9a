package fakegithub

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// App is a registered GitHub App. Treat it as read-only.
type App struct {
	ID       int64
	ClientID string
	Slug     string
	Key      *rsa.PrivateKey
	// PEM is the private key as GitHub lets you download it: PKCS#1,
	// "-----BEGIN RSA PRIVATE KEY-----".
	PEM []byte
}

// Installation is an app installed on an account. Treat it as read-only;
// change it with Install (which replaces) or Uninstall.
type Installation struct {
	ID      int64
	App     *App
	Account string
	// AccountType is "Organization", "User" or "Enterprise".
	AccountType string
	Permissions map[string]string
	// Repositories are names without owner; nil means every repository of
	// the account (repository_selection "all").
	Repositories []string
}

// installMeta holds what GitHub shows about an installation but tests do
// not set.
type installMeta struct {
	created time.Time
}

type account struct {
	Login string
	ID    int64
	Type  string // "Organization", "User", or "" while only repositories name it
}

type repo struct {
	ID    int64
	Owner string // as given to AddRepo
	Name  string
	dir   string
}

func (r *repo) fullName() string { return r.Owner + "/" + r.Name }

// keyPool holds RSA keys generated in this process. A server's n-th app gets
// key n, so apps of one server never share a key while a test binary
// generates only as many keys as its busiest server has apps.
var keyPool struct {
	sync.Mutex
	keys []*rsa.PrivateKey
}

func pooledKey(i int) *rsa.PrivateKey {
	keyPool.Lock()
	defer keyPool.Unlock()
	for len(keyPool.keys) <= i {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(fmt.Sprintf("fakegithub: generating RSA key: %v", err))
		}
		keyPool.keys = append(keyPool.keys, k)
	}
	return keyPool.keys[i]
}

// NewApp registers a GitHub App called slug with a 2048-bit RSA key. App IDs
// count up from 1001; the Client ID is "Iv23li" plus random hex. Keys are
// reused across servers in one process to keep tests fast, but differ
// between the apps of one server.
func (s *Server) NewApp(slug string) *App {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := pooledKey(len(s.apps)) // may take a moment the first time per index
	app := &App{
		ID:       s.nextAppID,
		ClientID: "Iv23li" + randomHex(7),
		Slug:     slug,
		Key:      key,
		PEM: pem.EncodeToMemory(&pem.Block{
			Type:  "RSA PRIVATE KEY",
			Bytes: x509.MarshalPKCS1PrivateKey(key),
		}),
	}
	s.nextAppID++
	s.apps = append(s.apps, app)
	return app
}

// appByIssuer finds the app a JWT's iss names: the App ID as a string or a
// JSON number, or the Client ID.
func (s *Server) appByIssuer(iss string) *App {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.apps {
		if iss == strconv.FormatInt(a.ID, 10) || iss == a.ClientID {
			return a
		}
	}
	return nil
}

// Install installs app on account ("Organization", "User" or "Enterprise")
// with the given permissions, on the named repositories (names without
// owner) or, with none named, on all of the account's repositories. GitHub
// grants metadata:read to every installation on an organization or user, so
// it is added when perms lacks it. An installation on an enterprise (account
// is the enterprise's slug) grants no organization or repository access
// (docs: "Installing a GitHub App on your enterprise") and lists no
// repositories. Installing an app again on the same account replaces the old
// installation (its tokens are revoked) and gives a new ID. IDs count up from
// 5001. It panics on any other accountType.
func (s *Server) Install(app *App, account, accountType string, perms map[string]string, repos ...string) *Installation {
	if accountType != "Organization" && accountType != "User" && accountType != "Enterprise" {
		panic(fmt.Sprintf("fakegithub: Install: account type %q is not Organization, User or Enterprise", accountType))
	}
	p := maps.Clone(perms)
	if p == nil {
		p = map[string]string{}
	}
	if _, ok := p["metadata"]; !ok && accountType != "Enterprise" {
		p["metadata"] = "read"
	}
	if accountType == "Enterprise" {
		repos = nil
	}
	var names []string
	if len(repos) > 0 {
		names = slices.Clone(repos)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	acct := s.accountLocked(account)
	if accountType == "Enterprise" {
		acct = s.enterpriseLocked(account)
	} else {
		acct.Type = accountType
	}
	for id, old := range s.installs {
		if old.App == app && strings.EqualFold(old.Account, account) && (old.AccountType == "Enterprise") == (accountType == "Enterprise") {
			s.removeInstallationLocked(id)
		}
	}
	inst := &Installation{
		ID:           s.nextInstallID,
		App:          app,
		Account:      acct.Login,
		AccountType:  accountType,
		Permissions:  p,
		Repositories: names,
	}
	s.nextInstallID++
	s.installs[inst.ID] = inst
	s.installMeta[inst.ID] = installMeta{created: s.nowLocked().UTC().Truncate(time.Second)}
	return inst
}

// Uninstall removes the installation and revokes every token minted for it.
// Uninstalling twice does nothing.
func (s *Server) Uninstall(inst *Installation) {
	if inst == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.installs[inst.ID] == inst {
		s.removeInstallationLocked(inst.ID)
	}
}

func (s *Server) removeInstallationLocked(id int64) {
	delete(s.installs, id)
	delete(s.installMeta, id)
	for _, t := range s.tokenOrder {
		if t.InstallationID == id {
			t.Revoked = true
		}
	}
}

// enterpriseLocked returns the enterprise with this slug, creating it. Enterprises are kept
// apart from user and organization logins (they are another namespace).
func (s *Server) enterpriseLocked(slug string) *account {
	key := "enterprise:" + strings.ToLower(slug)
	if a := s.accounts[key]; a != nil {
		return a
	}
	a := &account{Login: slug, ID: s.nextAccountID, Type: "Enterprise"}
	s.nextAccountID++
	s.accounts[key] = a
	return a
}

// accountLocked returns the account with this login, creating it.
func (s *Server) accountLocked(login string) *account {
	key := strings.ToLower(login)
	if a := s.accounts[key]; a != nil {
		return a
	}
	a := &account{Login: login, ID: s.nextAccountID}
	s.nextAccountID++
	s.accounts[key] = a
	return a
}

// installationsOfLocked returns app's installations ordered by ID.
func (s *Server) installationsOfLocked(app *App) []*Installation {
	var out []*Installation
	for _, inst := range s.installs {
		if inst.App == app {
			out = append(out, inst)
		}
	}
	slices.SortFunc(out, func(a, b *Installation) int { return int(a.ID - b.ID) })
	return out
}

// installationOnLocked returns app's installation on the user or organization login, or nil.
func (s *Server) installationOnLocked(app *App, login string) *Installation {
	for _, inst := range s.installs {
		if inst.App == app && inst.AccountType != "Enterprise" && strings.EqualFold(inst.Account, login) {
			return inst
		}
	}
	return nil
}

// coversLocked reports whether the installation can reach repository r.
func coversLocked(inst *Installation, r *repo) bool {
	if inst.AccountType == "Enterprise" || !strings.EqualFold(inst.Account, r.Owner) {
		return false
	}
	if inst.Repositories == nil {
		return true
	}
	return containsFold(inst.Repositories, r.Name)
}

// reposOfLocked lists the existing repositories an installation (or a token
// limited to names, when names is non-nil) covers, ordered by full name.
func (s *Server) reposOfLocked(inst *Installation, names []string) []*repo {
	var out []*repo
	for _, r := range s.repos {
		if !coversLocked(inst, r) {
			continue
		}
		if names != nil && !containsFold(names, r.Name) {
			continue
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *repo) int {
		return strings.Compare(strings.ToLower(a.fullName()), strings.ToLower(b.fullName()))
	})
	return out
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func randomHex(nBytes int) string {
	b := make([]byte, nBytes)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
