package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestStartReadsTheEnvironmentAsAUser: the front reads /proc/self/environ before it makes itself
// not dumpable, after which a user other than root could no longer open it (and every get would
// copy the environment into a map again). Run as root, the check runs in a child as nobody.
func TestStartReadsTheEnvironmentAsAUser(t *testing.T) {
	if os.Getenv("GHAPP_TEST_START_CHILD") == "1" {
		start()
		if !environScanned {
			t.Fatal("start did not read /proc/self/environ (was the process made not dumpable first?)")
		}
		return
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-test.run=^TestStartReadsTheEnvironmentAsAUser$"}
	var cmd *exec.Cmd
	if os.Geteuid() != 0 {
		cmd = exec.Command(self, args...)
	} else {
		// nobody must be able to run a copy of this test binary.
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(self)
		if err != nil {
			t.Fatal(err)
		}
		copyPath := filepath.Join(dir, "front.test")
		if err := os.WriteFile(copyPath, data, 0o755); err != nil {
			t.Fatal(err)
		}
		setpriv, err := exec.LookPath("setpriv")
		if err != nil {
			t.Fatalf("setpriv (Debian's util-linux) is needed to run this test as root as another user: %v", err)
		}
		cmd = exec.Command(setpriv, append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", copyPath}, args...)...)
		cmd.Dir = dir
	}
	cmd.Env = []string{"GHAPP_TEST_START_CHILD=1", "TMPDIR=" + os.TempDir(), "PATH=" + os.Getenv("PATH")}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}
