package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/gdyst/accountflows/activities"
	"github.com/gdyst/accountflows/face"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/worker"
	"github.com/gdyst/accountflows/workflows"
)

// faceLoginEnv is an SDK test environment running FaceLogin with its
// activities replaced by functions that record their calls.
type faceLoginEnv struct {
	*testsuite.TestWorkflowEnvironment
	verdicts []activities.CheckVerificationResult
	checks   int
	finished []activities.FinishFaceLoginInput
}

var start = time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)

func newFaceLoginEnv(t *testing.T, verdicts ...activities.CheckVerificationResult) *faceLoginEnv {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := &faceLoginEnv{TestWorkflowEnvironment: suite.NewTestWorkflowEnvironment(), verdicts: verdicts}
	env.SetStartTime(start)
	worker.RegisterWorkflows(env)
	env.RegisterActivity(&activities.Activities{})
	env.OnActivity("BeginFaceLogin", anyContext, anyInput).Return(func(_ context.Context, in activities.BeginFaceLoginInput) (activities.Verification, error) {
		return activities.Verification{ID: in.VerificationID, ProviderToken: "token-" + in.VerificationID, ExpiresAt: in.ExpiresAt}, nil
	})
	env.OnActivity("CheckVerification", anyContext, anyInput).Return(func(context.Context, activities.CheckVerificationInput) (activities.CheckVerificationResult, error) {
		verdict := env.verdicts[min(env.checks, len(env.verdicts)-1)]
		env.checks++
		return verdict, nil
	})
	env.OnActivity("FinishFaceLogin", anyContext, anyInput).Return(func(_ context.Context, in activities.FinishFaceLoginInput) (activities.FinishFaceLoginResult, error) {
		env.finished = append(env.finished, in)
		if in.Outcome == models.LoginSucceeded {
			return activities.FinishFaceLoginResult{PersonID: "person-1"}, nil
		}
		return activities.FinishFaceLoginResult{}, nil
	})
	return env
}

// Activity mocks match any context and any input.
var (
	anyContext = mock.Anything
	anyInput   = mock.Anything
)

func input() workflows.FaceLoginInput {
	return workflows.FaceLoginInput{
		LoginID:          "login-1",
		VerificationID:   "verification-1",
		Expected:         face.Identity{IDType: "resident_id", IDNumber: "synthetic", Name: "张伟"},
		SessionTokenHash: "hash",
		SessionTTL:       2 * time.Hour,
		ExpiresAt:        start.Add(10 * time.Minute),
	}
}

// report sends the verification-reported signal after delay.
func (env *faceLoginEnv) report(delay time.Duration) {
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SignalVerificationReported, workflows.VerificationReported{VerificationID: "verification-1"})
	}, delay)
}

func (env *faceLoginEnv) result(t *testing.T) workflows.FaceLoginResult {
	t.Helper()
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow failed: %v", err)
	}
	var res workflows.FaceLoginResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	return res
}

func TestFaceLogin_PassIssuesSession(t *testing.T) {
	env := newFaceLoginEnv(t, activities.CheckVerificationResult{Status: models.VerificationPassed})
	env.report(time.Minute)
	env.ExecuteWorkflow(workflows.FaceLoginWorkflow, input())

	res := env.result(t)
	if res.Status != models.LoginSucceeded || res.PersonID != "person-1" {
		t.Fatalf("result = %+v, want succeeded for person-1", res)
	}
	if len(env.finished) != 1 {
		t.Fatalf("FinishFaceLogin ran %d times, want 1", len(env.finished))
	}
	if got, want := env.finished[0].SessionExpiresAt, start.Add(time.Minute+2*time.Hour); !got.Equal(want) {
		t.Errorf("session expires at %s, want %s", got, want)
	}
}

func TestFaceLogin_FailureEndsLogin(t *testing.T) {
	env := newFaceLoginEnv(t, activities.CheckVerificationResult{Status: models.VerificationFailed, FailureCode: face.FailureIdentityMismatch})
	env.report(time.Minute)
	env.ExecuteWorkflow(workflows.FaceLoginWorkflow, input())

	res := env.result(t)
	if res.Status != models.LoginFailed || res.FailureCode != face.FailureIdentityMismatch {
		t.Fatalf("result = %+v, want failed with IDENTITY_MISMATCH", res)
	}
	if env.finished[0].SessionTokenHash != "" {
		t.Errorf("a failed login passed a session to FinishFaceLogin")
	}
}

func TestFaceLogin_PendingResultKeepsWaiting(t *testing.T) {
	env := newFaceLoginEnv(t,
		activities.CheckVerificationResult{Status: models.VerificationPending},
		activities.CheckVerificationResult{Status: models.VerificationPassed})
	env.report(time.Minute)
	env.report(3 * time.Minute)
	env.ExecuteWorkflow(workflows.FaceLoginWorkflow, input())

	if res := env.result(t); res.Status != models.LoginSucceeded {
		t.Fatalf("status = %s, want succeeded", res.Status)
	}
	if env.checks != 2 {
		t.Errorf("checked the provider %d times, want 2", env.checks)
	}
}

func TestFaceLogin_ExpiresOnTimer(t *testing.T) {
	env := newFaceLoginEnv(t, activities.CheckVerificationResult{Status: models.VerificationPending})
	env.ExecuteWorkflow(workflows.FaceLoginWorkflow, input())

	res := env.result(t)
	if res.Status != models.LoginExpired {
		t.Fatalf("status = %s, want expired", res.Status)
	}
	if env.checks != 0 {
		t.Errorf("checked the provider %d times without a report", env.checks)
	}
	if env.Now().Before(start.Add(10 * time.Minute)) {
		t.Errorf("expired at %s, before the deadline", env.Now())
	}
}

func TestFaceLogin_ReportAfterDeadlineExpires(t *testing.T) {
	env := newFaceLoginEnv(t, activities.CheckVerificationResult{Status: models.VerificationPassed})
	env.report(11 * time.Minute)
	env.ExecuteWorkflow(workflows.FaceLoginWorkflow, input())

	if res := env.result(t); res.Status != models.LoginExpired {
		t.Fatalf("status = %s, want expired", res.Status)
	}
}

func TestFaceLogin_BeginUpdateReturnsVerification(t *testing.T) {
	env := newFaceLoginEnv(t, activities.CheckVerificationResult{Status: models.VerificationPassed})
	var got activities.Verification
	var updateErr error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.UpdateBeginFaceLogin, "update-1", &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(err error) { updateErr = err },
			OnComplete: func(v any, err error) { updateErr = err; got, _ = v.(activities.Verification) },
		})
	}, 0)
	env.report(time.Minute)
	env.ExecuteWorkflow(workflows.FaceLoginWorkflow, input())

	if updateErr != nil {
		t.Fatalf("update failed: %v", updateErr)
	}
	if got.ID != "verification-1" || got.ProviderToken != "token-verification-1" {
		t.Errorf("update returned %+v", got)
	}
}

func TestFaceLogin_BeginFailureFailsUpdate(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	worker.RegisterWorkflows(env)
	env.RegisterActivity(&activities.Activities{})
	env.OnActivity("BeginFaceLogin", anyContext, anyInput).Return(activities.Verification{},
		temporal.NewNonRetryableApplicationError("provider down", "ProviderDown", errors.New("provider down")))
	var updateErr error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.UpdateBeginFaceLogin, "update-1", &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(err error) { updateErr = err },
			OnComplete: func(_ any, err error) { updateErr = err },
		})
	}, 0)
	env.ExecuteWorkflow(workflows.FaceLoginWorkflow, input())

	if updateErr == nil {
		t.Fatal("update succeeded although the provider session could not be created")
	}
	if env.GetWorkflowError() == nil {
		t.Error("workflow succeeded although it could not begin")
	}
}
