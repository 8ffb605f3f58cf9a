//go:build !linux

package e2e

import (
	"os/exec"
	"path/filepath"
	"testing"
)

func execIn(w *world, dir string, extra, argv []string) *exec.Cmd {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = w.environ(extra...)
	cmd.Dir = filepath.Join(w.dir, dir)
	return cmd
}

func testDockerRecipe(t *testing.T, _, _ string) {
	t.Skip("the container recipes chroot and change uid: Linux only")
}

func testKubernetesRecipe(t *testing.T, _ string) {
	t.Skip("the container recipes chroot and change uid: Linux only")
}
