package credential

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Credential is the answer to get.
type Credential struct {
	Username, Password string

	// PasswordExpiry is when the password stops working; the zero time means "not known"
	// and leaves password_expiry_utc out of the answer.
	PasswordExpiry time.Time
}

// Write writes the answer to get: username=, password= and, if PasswordExpiry is set,
// password_expiry_utc=<unix seconds, rounded down>, in that order, each ended by "\n",
// and nothing else (git reads the answer up to a blank line or end of output, so no
// blank line is needed).
//
// Write refuses, returning an error and writing nothing, when the credential is nil,
// the username or password is empty, either contains LF, CR or NUL, or PasswordExpiry
// is set but not after 1970-01-01 00:00:00 UTC. The error names the field, never its value.
// The answer goes to w in one Write call; an error from w is returned.
func (c *Credential) Write(w io.Writer) error {
	if c == nil {
		return errors.New("credential: refusing to write an empty answer")
	}
	for _, f := range []struct{ name, value string }{
		{"username", c.Username}, {"password", c.Password},
	} {
		if f.value == "" {
			return fmt.Errorf("credential: refusing to write an answer with an empty %s", f.name)
		}
		if i := strings.IndexAny(f.value, "\n\r\x00"); i >= 0 {
			return fmt.Errorf("credential: refusing to write a %s that contains %s", f.name, describeByte(f.value[i]))
		}
	}
	var expiry int64
	if !c.PasswordExpiry.IsZero() {
		expiry = c.PasswordExpiry.Unix()
		if expiry <= 0 {
			return errors.New("credential: refusing to write a password expiry before 1970")
		}
	}

	var buf bytes.Buffer
	buf.Grow(len("username=\npassword=\npassword_expiry_utc=\n") + len(c.Username) + len(c.Password) + 20)
	buf.WriteString("username=")
	buf.WriteString(c.Username)
	buf.WriteString("\npassword=")
	buf.WriteString(c.Password)
	buf.WriteByte('\n')
	if expiry > 0 {
		buf.WriteString("password_expiry_utc=")
		buf.Write(strconv.AppendInt(buf.AvailableBuffer(), expiry, 10))
		buf.WriteByte('\n')
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("credential: writing the answer: %w", err)
	}
	return nil
}
