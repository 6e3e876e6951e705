package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/gdyst/accountflows/activities"
	"github.com/gdyst/accountflows/worker"
	"github.com/gdyst/accountflows/workflows"
)

// sweepEnv runs Sweep with its activities replaced by functions that
// record their inputs.
type sweepEnv struct {
	*testsuite.TestWorkflowEnvironment
	expireInputs []activities.ExpireOverdueInput
	purgeInputs  []activities.PurgeInput
}

func newSweepEnv(t *testing.T, expireErr error) *sweepEnv {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := &sweepEnv{TestWorkflowEnvironment: suite.NewTestWorkflowEnvironment()}
	env.SetStartTime(start)
	worker.RegisterWorkflows(env)
	env.RegisterActivity(&activities.Sweeper{})
	env.OnActivity("ExpireOverdueFlows", anyContext, anyInput).Return(func(_ context.Context, in activities.ExpireOverdueInput) (activities.ExpireOverdueResult, error) {
		env.expireInputs = append(env.expireInputs, in)
		if expireErr != nil {
			return activities.ExpireOverdueResult{}, expireErr
		}
		return activities.ExpireOverdueResult{Expired: map[string]int{"face_logins": 3}, Total: 3, Terminated: 1}, nil
	})
	env.OnActivity("PurgeEndedRecords", anyContext, anyInput).Return(func(_ context.Context, in activities.PurgeInput) (activities.PurgeResult, error) {
		env.purgeInputs = append(env.purgeInputs, in)
		return activities.PurgeResult{Sessions: 7, IdempotencyRecords: 2}, nil
	})
	return env
}

func TestSweep_DefaultsExpireAndPurge(t *testing.T) {
	env := newSweepEnv(t, nil)
	env.ExecuteWorkflow(workflows.SweepWorkflow, workflows.SweepInput{})

	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow failed: %v", err)
	}
	var res workflows.SweepResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if len(env.expireInputs) != 1 || len(env.purgeInputs) != 1 {
		t.Fatalf("expire ran %d times and purge %d times, want once each", len(env.expireInputs), len(env.purgeInputs))
	}
	expire := env.expireInputs[0]
	if want := start.Add(-workflows.DefaultExpiryGrace); !expire.Cutoff.Equal(want) {
		t.Errorf("expiry cutoff = %s, want %s", expire.Cutoff, want)
	}
	if expire.BatchSize <= 0 || expire.MaxBatches <= 0 {
		t.Errorf("batch size %d and max batches %d, want both positive", expire.BatchSize, expire.MaxBatches)
	}
	if expire.TerminateReason == "" {
		t.Error("no terminate reason for workflows the sweep ends")
	}
	purge := env.purgeInputs[0]
	if want := start.Add(-24 * time.Hour); !purge.SessionsBefore.Equal(want) {
		t.Errorf("session cutoff = %s, want %s", purge.SessionsBefore, want)
	}
	if !purge.IdempotencyRecordsBefore.Equal(start) {
		t.Errorf("idempotency cutoff = %s, want %s", purge.IdempotencyRecordsBefore, start)
	}
	if res.Expired["face_logins"] != 3 || res.Terminated != 1 {
		t.Errorf("expired %v with %d terminated, want 3 face logins and 1 terminated", res.Expired, res.Terminated)
	}
	if res.SessionsPurged != 7 || res.IdempotencyRecordsPurged != 2 {
		t.Errorf("purged %d sessions and %d records, want 7 and 2", res.SessionsPurged, res.IdempotencyRecordsPurged)
	}
}

func TestSweep_InputOverridesDefaults(t *testing.T) {
	env := newSweepEnv(t, nil)
	env.ExecuteWorkflow(workflows.SweepWorkflow, workflows.SweepInput{ExpiryGrace: time.Minute, SessionRetention: time.Hour})

	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow failed: %v", err)
	}
	if got, want := env.expireInputs[0].Cutoff, start.Add(-time.Minute); !got.Equal(want) {
		t.Errorf("expiry cutoff = %s, want %s", got, want)
	}
	if got, want := env.purgeInputs[0].SessionsBefore, start.Add(-time.Hour); !got.Equal(want) {
		t.Errorf("session cutoff = %s, want %s", got, want)
	}
}

func TestSweep_ExpiryFailureFailsRun(t *testing.T) {
	env := newSweepEnv(t, temporal.NewNonRetryableApplicationError("database down", "Unavailable", errors.New("database down")))
	env.ExecuteWorkflow(workflows.SweepWorkflow, workflows.SweepInput{})

	if env.GetWorkflowError() == nil {
		t.Fatal("sweep succeeded although expiring failed")
	}
	if len(env.purgeInputs) != 0 {
		t.Errorf("purge ran after the expiry step failed")
	}
}
