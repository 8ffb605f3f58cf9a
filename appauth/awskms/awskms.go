// Package awskms signs the GitHub App's JWT with an RSA key in AWS KMS, which never lets the key
// out. URIs are cosign's: awskms:///KEY (KEY is a key id, a key ARN, alias/NAME or an alias ARN)
// and awskms://HOST[:PORT]/KEY for a KMS endpoint of your own (spoken to over https).
//
// Credentials and settings come from the AWS SDK's standard chain (environment, shared config and
// credentials files, SSO, web identity, container and instance roles); AWS_REGION (else the
// region of a key ARN), AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_KMS are honoured. The key must be
// an RSA_2048, RSA_3072 or RSA_4096 key for SIGN_VERIFY; the caller needs kms:GetPublicKey and
// kms:Sign on it and nothing else. Signatures are RSASSA_PKCS1_V1_5_SHA_256 over the SHA-256
// digest (MessageType DIGEST), so only the digest of the JWT goes to AWS.
//
// A mint pays KMS one round trip, the Sign: New does not call KMS, and the public key is fetched
// (kms:GetPublicKey) only when Public or Check is called, as setup and doctor do.
package awskms

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
)

// signTimeout bounds one Sign call, the SDK's retries included.
const signTimeout = 20 * time.Second

// Signer is an RSA key in AWS KMS.
type Signer struct {
	client *kms.Client
	keyID  string // as written in the URI
	where  string // "KMS in REGION" or the endpoint, for errors

	pubOnce sync.Once
	pub     *rsa.PublicKey
	pubErr  error
}

// keyRe matches what may follow the URI's slash: a key id (UUID or mrk-...), alias/NAME, or the
// ARN of a key or an alias.
var keyRe = regexp.MustCompile(`^(?:arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:(?:key/[A-Za-z0-9-]+|alias/[A-Za-z0-9/_-]+)|alias/[A-Za-z0-9/_-]+|[A-Za-z0-9-]+)$`)

// ParseURI splits an awskms URI into its endpoint (host[:port], "" for AWS's own) and key, and
// returns the region named by a key ARN ("" otherwise).
func ParseURI(uri string) (endpoint, key, arnRegion string, err error) {
	rest, ok := strings.CutPrefix(uri, "awskms://")
	if !ok {
		return "", "", "", errors.New("awskms: write the signer as awskms:///KEY-ID, awskms:///alias/NAME, awskms:///ARN or awskms://ENDPOINT/KEY")
	}
	endpoint, key, ok = strings.Cut(rest, "/")
	m := keyRe.FindStringSubmatch(key)
	if !ok || m == nil || strings.ContainsAny(endpoint, "@?#") {
		return "", "", "", fmt.Errorf("awskms: %q does not name a key: write awskms:///KEY-ID, awskms:///alias/NAME, awskms:///ARN or awskms://ENDPOINT/KEY", uri)
	}
	return endpoint, key, m[1], nil
}

// New returns the signer of the KMS key that uri names, without calling KMS: it reads the URI and
// the AWS configuration (and so fails, with one line naming the fix, on a malformed URI, an
// unreadable configuration or no region). Whether the key exists, may be used and is an RSA key
// for signing is found by the first signature or by Check.
func New(ctx context.Context, uri string) (crypto.Signer, error) {
	endpoint, key, arnRegion, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	// The SDK's own log lines (e.g. "WARN falling back to IMDSv1") would be a second line on
	// stderr; its errors say what is needed.
	cfg, err := config.LoadDefaultConfig(ctx, config.WithLogger(logging.Nop{}))
	if err != nil {
		return nil, fmt.Errorf("awskms: cannot read the AWS configuration: %v; check AWS_PROFILE and ~/.aws/config", err)
	}
	if arnRegion != "" {
		cfg.Region = arnRegion // a key ARN names the only region it can be used in
	}
	if cfg.Region == "" {
		return nil, errors.New("awskms: no AWS region: set AWS_REGION (or AWS_PROFILE with a region), or name the key by its ARN")
	}
	s := &Signer{keyID: key, where: "KMS in " + cfg.Region}
	s.client = kms.NewFromConfig(cfg, func(o *kms.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String("https://" + endpoint)
		}
		if o.BaseEndpoint != nil {
			s.where = "KMS at " + *o.BaseEndpoint
		}
	})
	return s, nil
}

// Check fetches the key's public key (kms:GetPublicKey) and checks that the key can make the
// JWT's signature: KeyUsage SIGN_VERIFY, an RSA KeySpec, RSASSA_PKCS1_V1_5_SHA_256 among its
// signing algorithms. It fails with one line naming what to fix: no credentials, KMS unreachable,
// access denied (naming kms:GetPublicKey), no such key, a key disabled or pending deletion, or a
// key of the wrong type. The answer is kept: later calls return the same.
func (s *Signer) Check(ctx context.Context) error {
	s.pubOnce.Do(func() {
		ctx, cancel := context.WithTimeout(ctx, signTimeout)
		defer cancel()
		s.pub, s.pubErr = s.fetchPublic(ctx)
	})
	return s.pubErr
}

func (s *Signer) fetchPublic(ctx context.Context) (*rsa.PublicKey, error) {
	key := s.keyID
	out, err := s.client.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(key)})
	if err != nil {
		return nil, s.explain(err, "kms:GetPublicKey")
	}
	if out.KeyUsage != types.KeyUsageTypeSignVerify {
		return nil, fmt.Errorf("awskms: the key %s is for %s, not SIGN_VERIFY: import the app's key into an RSA_2048 key created with --key-usage SIGN_VERIFY", key, out.KeyUsage)
	}
	switch out.KeySpec {
	case types.KeySpecRsa2048, types.KeySpecRsa3072, types.KeySpecRsa4096:
	default:
		return nil, fmt.Errorf("awskms: the key %s is %s; GitHub App keys are RSA: import the app's key into an RSA_2048 SIGN_VERIFY key", key, out.KeySpec)
	}
	if !slices.Contains(out.SigningAlgorithms, types.SigningAlgorithmSpecRsassaPkcs1V15Sha256) {
		return nil, fmt.Errorf("awskms: the key %s cannot sign with RSASSA_PKCS1_V1_5_SHA_256 (RS256)", key)
	}
	pub, err := x509.ParsePKIXPublicKey(out.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("awskms: the public key KMS returned for %s does not parse: %v", key, err)
	}
	rsaPub, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("awskms: the key %s is %T, not RSA", key, pub)
	}
	return rsaPub, nil
}

// Public returns the key's *rsa.PublicKey, fetching it from KMS on first use (see Check), or nil
// when it cannot be had; Check says why.
func (s *Signer) Public() crypto.PublicKey {
	if s.Check(context.Background()) != nil {
		return nil
	}
	return s.pub
}

// Sign asks KMS for an RSASSA_PKCS1_V1_5_SHA_256 signature of digest (MessageType DIGEST): one
// round trip. opts.HashFunc() must be crypto.SHA256 and digest 32 bytes. It fails with one line
// naming the fix for no credentials, an unreachable KMS, access denied (naming kms:Sign), no
// such key, a disabled key, or a key that cannot make this signature (not RSA, not SIGN_VERIFY).
func (s *Signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts == nil || opts.HashFunc() != crypto.SHA256 || len(digest) != 32 {
		return nil, errors.New("awskms: only RSASSA_PKCS1_V1_5_SHA_256 of a 32-byte SHA-256 digest is supported")
	}
	ctx, cancel := context.WithTimeout(context.Background(), signTimeout)
	defer cancel()
	out, err := s.client.Sign(ctx, &kms.SignInput{
		KeyId:            aws.String(s.keyID),
		Message:          digest,
		MessageType:      types.MessageTypeDigest,
		SigningAlgorithm: types.SigningAlgorithmSpecRsassaPkcs1V15Sha256,
	})
	if err != nil {
		return nil, s.explain(err, "kms:Sign")
	}
	return out.Signature, nil
}

// explain turns an SDK error into one line naming the backend, what happened and the fix.
func (s *Signer) explain(err error, action string) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch code := api.ErrorCode(); code {
		case "AccessDeniedException":
			return fmt.Errorf("awskms: access denied to %s (%s): allow kms:GetPublicKey and kms:Sign on the key to this identity (and nothing else)", s.keyID, action)
		case "NotFoundException":
			return fmt.Errorf("awskms: %s has no key %s: check the key id or alias, and AWS_REGION", s.where, s.keyID)
		case "DisabledException", "KMSInvalidStateException":
			return fmt.Errorf("awskms: the key %s cannot be used now (%s: %s): enable it, or finish importing its key material", s.keyID, code, oneLine(api.ErrorMessage()))
		case "InvalidKeyUsageException":
			return fmt.Errorf("awskms: the key %s cannot sign: %s; import the app's key into an RSA_2048 SIGN_VERIFY key", s.keyID, strings.TrimSuffix(oneLine(api.ErrorMessage()), "."))
		case "UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException", "InvalidClientTokenId":
			return fmt.Errorf("awskms: AWS refused the credentials (%s): refresh them (aws sso login, or new keys)", code)
		default:
			return fmt.Errorf("awskms: %s on %s: %s %s", action, s.keyID, code, oneLine(api.ErrorMessage()))
		}
	}
	msg := err.Error()
	var netErr net.Error
	switch {
	case strings.Contains(msg, "failed to retrieve credentials") || strings.Contains(msg, "no EC2 IMDS role found") || strings.Contains(msg, "get credentials"):
		return errors.New("awskms: no AWS credentials found: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or run with an instance, task or workload role")
	case errors.As(err, &netErr) || strings.Contains(msg, "dial tcp") || strings.Contains(msg, "connection refused") || strings.Contains(msg, "no such host"):
		return fmt.Errorf("awskms: cannot reach %s (%s): check the network, AWS_REGION and AWS_ENDPOINT_URL_KMS", s.where, lastPart(msg))
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("awskms: %s did not answer in time: check the network, AWS_REGION and AWS_ENDPOINT_URL_KMS", s.where)
	}
	return fmt.Errorf("awskms: %s on %s failed: %s", action, s.keyID, oneLine(msg))
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// lastPart returns the innermost cause of a wrapped SDK error ("connection refused").
func lastPart(msg string) string {
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return oneLine(msg[i+2:])
	}
	return oneLine(msg)
}
