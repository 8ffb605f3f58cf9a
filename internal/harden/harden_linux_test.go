package harden

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMain lets the test binary act as a child that hardens itself and then reports what the
// kernel says, so that the test process itself stays as it was.
func TestMain(m *testing.M) {
	if os.Getenv("HARDEN_TEST_CHILD") == "1" {
		if err := Process(); err != nil {
			os.Stdout.WriteString("error " + err.Error() + "\n")
			os.Exit(1)
		}
		d, err := dumpable()
		if err != nil {
			os.Exit(1)
		}
		os.Stdout.WriteString("dumpable=" + string(rune('0'+d)) + "\n")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// A real child process that calls Process is not dumpable afterwards; one that does not is.
func TestProcessMakesChildNonDumpable(t *testing.T) {
	out, err := childOutput(t, "1")
	if err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	if strings.TrimSpace(out) != "dumpable=0" {
		t.Fatalf("child after Process: %q, want dumpable=0", out)
	}
	if d, err := dumpable(); err != nil || d != 1 {
		t.Fatalf("this test process: dumpable %d (%v); want 1, so that the child's 0 is Process's doing", d, err)
	}
}

func childOutput(t *testing.T, v string) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "HARDEN_TEST_CHILD="+v)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
