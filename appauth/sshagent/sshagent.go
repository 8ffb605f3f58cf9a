// Package sshagent signs the GitHub App's JWT with an RSA key held by an ssh-agent (OpenSSH's,
// 1Password's, gpg-agent's): the URI "ssh-agent:" names the agent's only RSA key, and
// "ssh-agent:SHA256:FINGERPRINT" the key with that fingerprint, as `ssh-add -l -E sha256` prints
// it. The agent is reached through the Unix socket in SSH_AUTH_SOCK; Windows' named pipe
// (\\.\pipe\openssh-ssh-agent) is not supported.
//
// It speaks the two requests of the agent protocol it needs (draft-miller-ssh-agent: list the
// identities, sign with the rsa-sha2-256 flag of RFC 8332, which is RSASSA-PKCS1-v1_5 over
// SHA-256, exactly RS256) rather than linking golang.org/x/crypto/ssh.
package sshagent

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"runtime"
	"strings"
	"time"
)

// Agent protocol numbers (draft-miller-ssh-agent, section 6).
const (
	msgFailure           = 5
	msgRequestIdentities = 11
	msgIdentitiesAnswer  = 12
	msgSignRequest       = 13
	msgSignResponse      = 14
	flagRSASHA256        = 2 // SSH_AGENT_RSA_SHA2_256
)

// maxReply bounds an agent's answer; a list of a few hundred keys fits easily.
const maxReply = 256 << 10

// timeout bounds one exchange with the agent when the context sets no earlier deadline; an agent
// that asks the user to confirm a signature (ssh-add -c) has that long.
const timeout = 30 * time.Second

// Signer is a key held by an ssh-agent. It implements crypto.MessageSigner: the agent hashes
// what it signs, so SignMessage is the way to sign and Sign (a digest) always fails.
type Signer struct {
	socket      string
	blob        []byte // the key as the agent names it (SSH wire format)
	pub         *rsa.PublicKey
	fingerprint string
}

// New opens the key uri names ("ssh-agent:" or "ssh-agent:SHA256:FP") in the agent at
// SSH_AUTH_SOCK. It fails, with one line that says what to do, when the URI is malformed,
// SSH_AUTH_SOCK is unset or the agent does not answer, the agent holds no RSA key, several RSA
// keys and the URI names none (their fingerprints are listed), or none with the fingerprint
// named. ctx bounds this call; each signature later has a timeout of its own.
func New(ctx context.Context, uri string) (crypto.Signer, error) {
	rest, ok := strings.CutPrefix(uri, "ssh-agent:")
	if !ok {
		return nil, errors.New("ssh-agent: the signer URI must start with ssh-agent: (e.g. ssh-agent: or ssh-agent:SHA256:FINGERPRINT)")
	}
	want := ""
	if rest != "" {
		fp, ok := strings.CutPrefix(rest, "SHA256:")
		if !ok || fp == "" || strings.ContainsAny(fp, " :") {
			return nil, errors.New("ssh-agent: write the key as ssh-agent:SHA256:FINGERPRINT, as `ssh-add -l -E sha256` prints it, or ssh-agent: for the agent's only RSA key")
		}
		want = "SHA256:" + strings.TrimRight(fp, "=")
	}
	socket := os.Getenv("SSH_AUTH_SOCK")
	if socket == "" {
		if runtime.GOOS == "windows" {
			return nil, errors.New("ssh-agent: SSH_AUTH_SOCK is not set; the Windows OpenSSH agent's named pipe is not supported: point SSH_AUTH_SOCK at an agent's Unix socket, or use another --signer")
		}
		return nil, errors.New("ssh-agent: SSH_AUTH_SOCK is not set: start an agent (eval \"$(ssh-agent)\") and ssh-add the app's .pem, or use another --signer")
	}
	s := &Signer{socket: socket}
	keys, err := s.identities(ctx)
	if err != nil {
		return nil, err
	}
	var rsaKeys []identity
	for _, k := range keys {
		if want != "" && k.fingerprint == want {
			if k.pub == nil {
				return nil, fmt.Errorf("ssh-agent: the key %s is %s, not RSA; GitHub App keys are RSA: ssh-add the app's .pem", want, k.kind)
			}
			s.blob, s.pub, s.fingerprint = k.blob, k.pub, k.fingerprint
			return s, s.checkSize()
		}
		if k.pub != nil {
			rsaKeys = append(rsaKeys, k)
		}
	}
	var fps []string
	for _, k := range rsaKeys {
		fps = append(fps, k.fingerprint)
	}
	switch {
	case want != "":
		have := "no RSA key"
		if len(fps) > 0 {
			have = "RSA keys " + strings.Join(fps, ", ")
		}
		return nil, fmt.Errorf("ssh-agent: the agent at %s holds no key %s (it has %s): ssh-add the app's .pem, or fix the fingerprint", socket, want, have)
	case len(rsaKeys) == 0:
		return nil, fmt.Errorf("ssh-agent: the agent at %s holds no RSA key: ssh-add the app's .pem", socket)
	case len(rsaKeys) > 1:
		return nil, fmt.Errorf("ssh-agent: the agent at %s holds %d RSA keys (%s): name the app's with --signer ssh-agent:SHA256:FINGERPRINT", socket, len(rsaKeys), strings.Join(fps, ", "))
	}
	k := rsaKeys[0]
	s.blob, s.pub, s.fingerprint = k.blob, k.pub, k.fingerprint
	return s, s.checkSize()
}

// checkSize refuses an RSA key smaller than GitHub's (GitHub App keys are 2048 bits): it cannot
// be the app's.
func (s *Signer) checkSize() error {
	if bits := s.pub.N.BitLen(); bits < 2048 {
		return fmt.Errorf("ssh-agent: the key %s is RSA of %d bits; GitHub App keys are 2048 bits: ssh-add the app's .pem", s.fingerprint, bits)
	}
	return nil
}

// Public returns the key's *rsa.PublicKey.
func (s *Signer) Public() crypto.PublicKey { return s.pub }

// Fingerprint returns the key's fingerprint as `ssh-add -l -E sha256` prints it.
func (s *Signer) Fingerprint() string { return s.fingerprint }

// Sign always fails: an ssh-agent hashes what it signs and cannot sign a digest. Use
// SignMessage (crypto.SignMessage does).
func (s *Signer) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("ssh-agent: an ssh-agent signs messages, not digests (use crypto.SignMessage)")
}

// SignMessage asks the agent for an rsa-sha2-256 signature of msg (RSASSA-PKCS1-v1_5 over
// SHA-256). opts.HashFunc() must be crypto.SHA256. It fails when the agent refuses (a key
// removed since, a confirmation declined), answers with another algorithm (an agent too old for
// RFC 8332 signs SHA-1), or answers a signature that does not verify.
func (s *Signer) SignMessage(_ io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts == nil || opts.HashFunc() != crypto.SHA256 {
		return nil, errors.New("ssh-agent: only rsa-sha2-256 (SHA-256) signatures are supported")
	}
	var req []byte
	req = append(req, msgSignRequest)
	req = appendString(req, s.blob)
	req = appendString(req, msg)
	req = binary.BigEndian.AppendUint32(req, flagRSASHA256)
	reply, err := s.roundTrip(context.Background(), req)
	if err != nil {
		return nil, err
	}
	switch reply[0] {
	case msgSignResponse:
	case msgFailure:
		return nil, fmt.Errorf("ssh-agent: the agent refused to sign with %s (was it removed, or was a confirmation declined?): check `ssh-add -l -E sha256`", s.fingerprint)
	default:
		return nil, fmt.Errorf("ssh-agent: unexpected answer %d to a sign request", reply[0])
	}
	r := reader(reply[1:])
	sigBlob, ok1 := r.string()
	sr := reader(sigBlob)
	format, ok2 := sr.string()
	sig, ok3 := sr.string()
	if !ok1 || !ok2 || !ok3 {
		return nil, errors.New("ssh-agent: the agent's signature is malformed")
	}
	if string(format) != "rsa-sha2-256" {
		return nil, fmt.Errorf("ssh-agent: the agent signed with %q instead of rsa-sha2-256 (RFC 8332): upgrade the agent", format)
	}
	digest := sha256.Sum256(msg)
	if err := rsa.VerifyPKCS1v15(s.pub, crypto.SHA256, digest[:], sig); err != nil {
		return nil, fmt.Errorf("ssh-agent: the agent's signature with %s does not verify", s.fingerprint)
	}
	return sig, nil
}

// identity is one key the agent holds; pub is nil for a key that is not RSA.
type identity struct {
	blob        []byte
	kind        string
	pub         *rsa.PublicKey
	fingerprint string
}

func (s *Signer) identities(ctx context.Context) ([]identity, error) {
	reply, err := s.roundTrip(ctx, []byte{msgRequestIdentities})
	if err != nil {
		return nil, err
	}
	if reply[0] != msgIdentitiesAnswer {
		return nil, fmt.Errorf("ssh-agent: the agent at %s would not list its keys (answer %d)", s.socket, reply[0])
	}
	r := reader(reply[1:])
	n, ok := r.uint32()
	if !ok || n > maxReply {
		return nil, errors.New("ssh-agent: the agent's list of keys is malformed")
	}
	var keys []identity
	for range n {
		blob, ok1 := r.string()
		_, ok2 := r.string() // comment
		if !ok1 || !ok2 {
			return nil, errors.New("ssh-agent: the agent's list of keys is malformed")
		}
		sum := sha256.Sum256(blob)
		k := identity{blob: blob, fingerprint: "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])}
		br := reader(blob)
		kind, _ := br.string()
		k.kind = string(kind)
		if k.kind == "ssh-rsa" {
			e, ok1 := br.mpint()
			nn, ok2 := br.mpint()
			if ok1 && ok2 && e.IsInt64() && e.Int64() > 1 && e.Int64() < 1<<31 && nn.Sign() > 0 {
				k.pub = &rsa.PublicKey{N: nn, E: int(e.Int64())}
			}
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// roundTrip sends one request to the agent and returns its answer (at least one byte: the type).
func (s *Signer) roundTrip(ctx context.Context, req []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", s.socket)
	if err != nil {
		return nil, fmt.Errorf("ssh-agent: cannot reach the agent at %s (%v): is it running? check SSH_AUTH_SOCK", s.socket, unwrapOp(err))
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	msg := binary.BigEndian.AppendUint32(nil, uint32(len(req)))
	if _, err := conn.Write(append(msg, req...)); err != nil {
		return nil, fmt.Errorf("ssh-agent: cannot talk to the agent at %s: %v", s.socket, unwrapOp(err))
	}
	var hdr [4]byte
	if _, err := io.ReadFull(conn, hdr[:]); err != nil {
		return nil, fmt.Errorf("ssh-agent: no answer from the agent at %s: %v", s.socket, unwrapOp(err))
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || n > maxReply {
		return nil, fmt.Errorf("ssh-agent: the agent at %s answered a message of %d bytes", s.socket, n)
	}
	reply := make([]byte, n)
	if _, err := io.ReadFull(conn, reply); err != nil {
		return nil, fmt.Errorf("ssh-agent: the agent at %s broke off its answer: %v", s.socket, unwrapOp(err))
	}
	return reply, nil
}

func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

func appendString(b, s []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// reader reads SSH wire-format values (RFC 4251 section 5).
type reader []byte

func (r *reader) uint32() (uint32, bool) {
	if len(*r) < 4 {
		return 0, false
	}
	v := binary.BigEndian.Uint32(*r)
	*r = (*r)[4:]
	return v, true
}

func (r *reader) string() ([]byte, bool) {
	n, ok := r.uint32()
	if !ok || uint64(n) > uint64(len(*r)) {
		return nil, false
	}
	s := (*r)[:n]
	*r = (*r)[n:]
	return s, true
}

func (r *reader) mpint() (*big.Int, bool) {
	b, ok := r.string()
	if !ok || len(b) > 0 && b[0]&0x80 != 0 { // negative: never a valid RSA e or n
		return nil, false
	}
	return new(big.Int).SetBytes(b), true
}
