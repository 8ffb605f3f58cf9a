package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/git-credential-ghapp/git-credential-ghapp/appauth/keystore"
)

// openSigner returns what signs the app's JWT and where it is: the key store --signer
// (GHAPP_SIGNER) names, in which case no key file, key variable or keyring is read; else the
// private key from the file, the environment or the OS keyring (see loadKey).
func openSigner(ctx context.Context, e *env, o *options) (crypto.Signer, string, error) {
	if o.Signer != "" {
		s, err := keystore.Open(ctx, o.Signer)
		if err != nil {
			return nil, "", err
		}
		return s, "signer " + o.Signer, nil
	}
	key, from, err := loadKey(e, o)
	if err != nil {
		return nil, "", err
	}
	return key, from, nil
}

// keyDescription says what kind of key a signer holds, e.g. "RSA, 2048 bits".
func keyDescription(s crypto.Signer) string {
	if pub, ok := s.Public().(*rsa.PublicKey); ok {
		return fmt.Sprintf("RSA, %d bits", pub.N.BitLen())
	}
	return fmt.Sprintf("%T, not RSA", s.Public())
}

// checkSigner opens the key store --signer names, for doctor, and says how long that took.
func (d *doctor) checkSigner(ctx context.Context, o *options) crypto.Signer {
	if o.AppID == "" {
		d.fail("app id", "no app id given, and no helper of this tool configured to take it from", "pass --app-id, or run setup --signer")
	}
	if o.KeyFile != "" || o.KeyPEM != "" {
		d.warn("private key", "a key file or GHAPP_PRIVATE_KEY is set but not read: --signer (GHAPP_SIGNER) wins",
			"remove --key-file, GHAPP_PRIVATE_KEY_FILE and GHAPP_PRIVATE_KEY, so no copy of the key is left on this machine")
	}
	start := time.Now()
	s, err := keystore.Open(ctx, o.Signer)
	if err == nil {
		err = keystore.Check(ctx, s)
	}
	if err != nil {
		d.fail("signer", err.Error(), "")
		return nil
	}
	d.ok("signer", "%s (%s), opened in %s", o.Signer, keyDescription(s), roundDuration(time.Since(start)))
	return s
}

// checkSignature makes one RS256 signature with s, checks it against s's public key, and says how
// long it took: what each mint pays to sign its JWT. It returns s, or nil when it cannot sign.
func (d *doctor) checkSignature(s crypto.Signer) crypto.Signer {
	if s == nil {
		return nil
	}
	pub, ok := s.Public().(*rsa.PublicKey)
	if !ok {
		d.fail("signature", "the key is not RSA", "GitHub App keys are RSA: use the key GitHub generated for the app")
		return nil
	}
	msg := []byte("git-credential-ghapp doctor: one signature")
	start := time.Now()
	sig, err := crypto.SignMessage(s, rand.Reader, msg, crypto.SHA256)
	took := time.Since(start)
	if err != nil {
		d.fail("signature", err.Error(), "")
		return nil
	}
	sum := sha256.Sum256(msg)
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		d.fail("signature", "the signature does not verify with the key's own public key", "check the key store's key and algorithm (RSASSA-PKCS1-v1_5 with SHA-256)")
		return nil
	}
	d.ok("signature", "one RS256 signature took %s", roundDuration(took))
	return s
}

// roundDuration keeps three significant digits: 1.23ms, 45.6ms, 1.2s.
func roundDuration(d time.Duration) time.Duration {
	for _, r := range []time.Duration{time.Microsecond, 10 * time.Microsecond, 100 * time.Microsecond, time.Millisecond, 10 * time.Millisecond} {
		if d < 1000*r {
			return d.Round(r)
		}
	}
	return d.Round(100 * time.Millisecond)
}
