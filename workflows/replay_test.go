package workflows_test

import (
	"path/filepath"
	"testing"

	sdkworker "go.temporal.io/sdk/worker"

	"github.com/gdyst/accountflows/codec"
	"github.com/gdyst/accountflows/testenv"
	"github.com/gdyst/accountflows/worker"
)

// TestReplay_RecordedHistories replays histories recorded from a real dev
// server against the current workflow code. A change that would break
// flows already running fails here. Record a new history with
// YST_RECORD_HISTORY=1 go test -run HistoryReplays ./e2e/ after a change
// that is meant to be compatible.
func TestReplay_RecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no recorded histories in testdata")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			replayer, err := sdkworker.NewWorkflowReplayerWithOptions(sdkworker.WorkflowReplayerOptions{
				DataConverter: codec.DataConverter(testenv.Keyring(t)),
			})
			if err != nil {
				t.Fatal(err)
			}
			worker.RegisterWorkflows(replayer)
			if err := replayer.ReplayWorkflowHistoryFromJSONFile(testenv.QuietLogger{}, file); err != nil {
				t.Fatalf("replay of %s failed: %v", file, err)
			}
		})
	}
}
