package workflows_test

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/gdyst/accountflows/activities"
	"github.com/gdyst/accountflows/face"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/worker"
	"github.com/gdyst/accountflows/workflows"
)

// invitationEnv runs AgentInvitation with activities replaced by functions
// that record their calls; verdicts are returned per verification id.
type invitationEnv struct {
	*testsuite.TestWorkflowEnvironment
	verdicts map[string]activities.CheckVerificationResult
	ended    []activities.EndInvitationInput
	accepted int
	failures []int
}

func newInvitationEnv(t *testing.T) *invitationEnv {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := &invitationEnv{TestWorkflowEnvironment: suite.NewTestWorkflowEnvironment(), verdicts: map[string]activities.CheckVerificationResult{}}
	env.SetStartTime(start)
	worker.RegisterWorkflows(env)
	env.RegisterActivity(&activities.Activities{})
	env.OnActivity("CreateInvitation", anyContext, anyInput).Return(nil)
	env.OnActivity("BeginVerification", anyContext, anyInput).Return(func(_ context.Context, in activities.BeginVerificationInput) (activities.Verification, error) {
		return activities.Verification{ID: in.VerificationID, ProviderToken: "token-" + in.VerificationID, ExpiresAt: in.ExpiresAt}, nil
	})
	env.OnActivity("CheckVerification", anyContext, anyInput).Return(func(_ context.Context, in activities.CheckVerificationInput) (activities.CheckVerificationResult, error) {
		return env.verdicts[in.VerificationID], nil
	})
	env.OnActivity("AcceptInvitation", anyContext, anyInput).Return(func(context.Context, activities.AcceptInvitationInput) (activities.AcceptInvitationResult, error) {
		env.accepted++
		return activities.AcceptInvitationResult{AgentPersonID: "agent-1"}, nil
	})
	env.OnActivity("EndInvitation", anyContext, anyInput).Return(func(_ context.Context, in activities.EndInvitationInput) error {
		env.ended = append(env.ended, in)
		return nil
	})
	env.OnActivity("RecordInvitationFailure", anyContext, anyInput).Return(func(_ context.Context, in activities.RecordInvitationFailureInput) error {
		env.failures = append(env.failures, in.Failures)
		return nil
	})
	env.OnActivity("ExpireVerification", anyContext, anyInput).Return(nil)
	return env
}

func invitationInput() workflows.AgentInvitationInput {
	return workflows.AgentInvitationInput{
		InvitationID:    "invitation-1",
		AccountID:       "account-1",
		InviterID:       "inviter-1",
		Invitee:         face.Identity{IDType: "resident_id", IDNumber: "synthetic", Name: "王芳"},
		ExpiresAt:       start.Add(168 * time.Hour),
		VerificationTTL: 10 * time.Minute,
	}
}

// verify starts verification id through the update after delay and reports
// it a minute later with verdict.
func (env *invitationEnv) verify(t *testing.T, delay time.Duration, id string, verdict activities.CheckVerificationResult) {
	env.verdicts[id] = verdict
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.UpdateStartInviteeVerification, "start-"+id, &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(err error) { t.Errorf("start verification %s rejected: %v", id, err) },
			OnComplete: func(any, error) {},
		}, workflows.StartVerificationRequest{VerificationID: id})
	}, delay)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SignalVerificationReported, workflows.VerificationReported{VerificationID: id})
	}, delay+time.Minute)
}

func (env *invitationEnv) result(t *testing.T) workflows.AgentInvitationResult {
	t.Helper()
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow failed: %v", err)
	}
	var res workflows.AgentInvitationResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	return res
}

var (
	passed   = activities.CheckVerificationResult{Status: models.VerificationPassed}
	mismatch = activities.CheckVerificationResult{Status: models.VerificationFailed, FailureCode: face.FailureIdentityMismatch}
)

func TestAgentInvitation_MismatchThenPassAccepts(t *testing.T) {
	env := newInvitationEnv(t)
	env.verify(t, time.Hour, "v1", mismatch)
	env.verify(t, 2*time.Hour, "v2", passed)
	env.ExecuteWorkflow(workflows.AgentInvitationWorkflow, invitationInput())

	res := env.result(t)
	if res.Status != models.InvitationAccepted || res.AgentPersonID != "agent-1" {
		t.Fatalf("result = %+v, want accepted by agent-1", res)
	}
	if env.accepted != 1 {
		t.Errorf("AcceptInvitation ran %d times, want 1", env.accepted)
	}
	if len(env.failures) != 1 || env.failures[0] != 1 {
		t.Errorf("recorded failures %v, want [1]", env.failures)
	}
}

func TestAgentInvitation_ThirdFailureEndsIt(t *testing.T) {
	env := newInvitationEnv(t)
	for i, id := range []string{"v1", "v2", "v3"} {
		env.verify(t, time.Duration(i+1)*time.Hour, id, mismatch)
	}
	env.ExecuteWorkflow(workflows.AgentInvitationWorkflow, invitationInput())

	if res := env.result(t); res.Status != models.InvitationFailed {
		t.Fatalf("status = %s, want failed", res.Status)
	}
	if len(env.ended) != 1 || env.ended[0].Status != models.InvitationFailed {
		t.Errorf("EndInvitation calls = %+v, want one with failed", env.ended)
	}
}

func TestAgentInvitation_ExpiresOnTimer(t *testing.T) {
	env := newInvitationEnv(t)
	env.ExecuteWorkflow(workflows.AgentInvitationWorkflow, invitationInput())

	if res := env.result(t); res.Status != models.InvitationExpired {
		t.Fatalf("status = %s, want expired", res.Status)
	}
	if env.Now().Before(start.Add(168 * time.Hour)) {
		t.Errorf("expired at %s, before its deadline", env.Now())
	}
	if len(env.ended) != 1 || env.ended[0].Status != models.InvitationExpired {
		t.Errorf("EndInvitation calls = %+v, want one with expired", env.ended)
	}
}

func TestAgentInvitation_RevokeOnceThenRejected(t *testing.T) {
	env := newInvitationEnv(t)
	var first, second error
	revoke := func(delay time.Duration, id string, out *error) {
		env.RegisterDelayedCallback(func() {
			env.UpdateWorkflow(workflows.UpdateRevokeInvitation, id, &testsuite.TestUpdateCallback{
				OnAccept:   func() {},
				OnReject:   func(err error) { *out = err },
				OnComplete: func(_ any, err error) { *out = err },
			}, workflows.RevokeRequest{ActorID: "inviter-1"})
		}, delay)
	}
	revoke(time.Hour, "revoke-1", &first)
	revoke(time.Hour, "revoke-2", &second)
	env.ExecuteWorkflow(workflows.AgentInvitationWorkflow, invitationInput())

	if res := env.result(t); res.Status != models.InvitationRevoked {
		t.Fatalf("status = %s, want revoked", res.Status)
	}
	if first != nil {
		t.Errorf("first revocation failed: %v", first)
	}
	if second == nil {
		t.Error("second revocation succeeded on a revoked invitation")
	}
	if len(env.ended) != 1 || env.ended[0].ActorID != "inviter-1" {
		t.Errorf("EndInvitation calls = %+v, want one by inviter-1", env.ended)
	}
}

func TestAgentInvitation_UnknownReportIgnored(t *testing.T) {
	env := newInvitationEnv(t)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SignalVerificationReported, workflows.VerificationReported{VerificationID: "never-started"})
	}, time.Hour)
	env.verify(t, 2*time.Hour, "v1", passed)
	env.ExecuteWorkflow(workflows.AgentInvitationWorkflow, invitationInput())

	if res := env.result(t); res.Status != models.InvitationAccepted {
		t.Fatalf("status = %s, want accepted", res.Status)
	}
}
