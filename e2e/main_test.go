// Package e2e drives the whole service through HTTP: a real API and worker
// on a real Temporal dev server, over SQLite and PostgreSQL, with the
// sandbox face provider.
package e2e

import (
	"fmt"
	"os"
	"testing"

	"github.com/gdyst/accountflows/testenv"
)

var dev *testenv.DevServer

func TestMain(m *testing.M) {
	var err error
	dev, err = testenv.StartDevServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	code := m.Run()
	dev.Stop()
	os.Exit(code)
}
