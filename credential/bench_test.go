package credential

import (
	"io"
	"strings"
	"testing"
)

func BenchmarkReadRequest(b *testing.B) {
	const in = "capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=github.com\n" +
		"path=acme/app.git\nwwwauth[]=Basic realm=\"GitHub\"\n\n"
	r := strings.NewReader(in)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		r.Reset(in)
		if _, err := ReadRequest(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWrite(b *testing.B) {
	c := &Credential{Username: TokenUsername, Password: "ghs_" + strings.Repeat("x", 516), PasswordExpiry: testExpiry}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Write(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
