//go:build chaos

package chaos

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gdyst/accountflows/testenv"
)

var (
	// ystPath is cmd/yst built with the chaos tag, so its workers obey
	// YST_CHAOS_CRASH_AFTER.
	ystPath string

	devOnce sync.Once
	dev     *testenv.DevServer
	devErr  error
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "yst-chaos-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	ystPath = filepath.Join(dir, "yst")
	build := exec.Command("go", "build", "-tags", "chaos", "-o", ystPath, "./cmd/yst")
	build.Dir = testenv.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "chaos: go build -tags chaos ./cmd/yst: %v\n%s", err, out)
		return 1
	}
	defer func() { dev.Stop() }()
	return m.Run()
}

// devServer starts the in-memory Temporal dev server that the crash and
// outage suites share, on first use. Each test has its own task queue.
func devServer(t *testing.T) *testenv.DevServer {
	t.Helper()
	devOnce.Do(func() { dev, devErr = testenv.StartDevServer() })
	if devErr != nil {
		t.Fatal(devErr)
	}
	return dev
}
