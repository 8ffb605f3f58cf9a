package credential

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// recordingWriter records every Write call.
type recordingWriter struct {
	calls []string
	err   error
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	w.calls = append(w.calls, string(p))
	if w.err != nil {
		return 0, w.err
	}
	return len(p), nil
}

func TestCredentialWrite(t *testing.T) {
	longToken := "ghs_" + strings.Repeat("A1b2.", 104) // GitHub's newer ~520-character tokens
	tests := []struct {
		name string
		c    *Credential
		want string
	}{
		{"no expiry", &Credential{Username: TokenUsername, Password: "ghs_abc"},
			"username=x-access-token\npassword=ghs_abc\n"},
		{"expiry in UTC", &Credential{Username: TokenUsername, Password: "ghs_abc", PasswordExpiry: testExpiry},
			"username=x-access-token\npassword=ghs_abc\npassword_expiry_utc=1893553445\n"},
		{"expiry in another zone with fractions rounds down",
			&Credential{Username: TokenUsername, Password: "p",
				PasswordExpiry: testExpiry.Add(999 * time.Millisecond).In(time.FixedZone("X", -7*3600))},
			"username=x-access-token\npassword=p\npassword_expiry_utc=1893553445\n"},
		{"one second after the epoch", &Credential{Username: "u", Password: "p", PasswordExpiry: time.Unix(1, 0)},
			"username=u\npassword=p\npassword_expiry_utc=1\n"},
		{"long token with dots and '=' is written as is", &Credential{Username: TokenUsername, Password: longToken + "=="},
			"username=x-access-token\npassword=" + longToken + "==\n"},
		{"tab and non-ASCII are allowed", &Credential{Username: "ü\tx", Password: "p"},
			"username=ü\tx\npassword=p\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &recordingWriter{}
			if err := tt.c.Write(w); err != nil {
				t.Fatal(err)
			}
			if len(w.calls) != 1 {
				t.Fatalf("%d Write calls, want 1", len(w.calls))
			}
			if w.calls[0] != tt.want {
				t.Fatalf("wrote %q, want %q", w.calls[0], tt.want)
			}
		})
	}
}

func TestCredentialWriteRefuses(t *testing.T) {
	tests := []struct {
		name string
		c    *Credential
		want string
	}{
		{"nil", nil, "empty answer"},
		{"empty username", &Credential{Password: "p"}, "empty username"},
		{"empty password", &Credential{Username: TokenUsername}, "empty password"},
		{"LF in username", &Credential{Username: "a\nb", Password: "p"}, "username that contains a line feed"},
		{"LF in password", &Credential{Username: "u", Password: "p\npassword=q"}, "password that contains a line feed"},
		{"CR in password", &Credential{Username: "u", Password: "p\r"}, "password that contains a carriage return"},
		{"NUL in password", &Credential{Username: "u", Password: "\x00"}, "password that contains a NUL byte"},
		{"CR in username", &Credential{Username: "\ru", Password: "p"}, "username that contains a carriage return"},
		{"expiry at the epoch", &Credential{Username: "u", Password: "p", PasswordExpiry: time.Unix(0, 0)}, "before 1970"},
		{"expiry before the epoch", &Credential{Username: "u", Password: "p", PasswordExpiry: time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC)}, "before 1970"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &recordingWriter{}
			err := tt.c.Write(w)
			if err == nil {
				t.Fatal("Write succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if len(w.calls) != 0 {
				t.Errorf("wrote %q despite refusing", w.calls)
			}
		})
	}
}

func TestCredentialWriteError(t *testing.T) {
	boom := errors.New("broken pipe")
	w := &recordingWriter{err: boom}
	err := (&Credential{Username: "u", Password: "secret-pw"}).Write(w)
	if !errors.Is(err, boom) {
		t.Fatalf("error %v does not wrap the writer's", err)
	}
	if strings.Contains(err.Error(), "secret-pw") {
		t.Fatalf("error %q repeats the password", err)
	}
}
