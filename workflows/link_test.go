package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/gdyst/accountflows/activities"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/worker"
	"github.com/gdyst/accountflows/workflows"
)

const (
	linkRequester = "requester-1"
	linkApplicant = "applicant-1"
	linkTTL       = 168 * time.Hour
)

// linkEnv is an SDK test environment running AccountLink with its
// activities replaced by functions that record their calls.
type linkEnv struct {
	*testsuite.TestWorkflowEnvironment
	created int
	ended   []activities.EndLinkRequestInput
	// createErr is the result of CreateLinkRequest.
	createErr error
	// endErr, when set, decides the result of each EndLinkRequest call.
	endErr func(activities.EndLinkRequestInput) error
	// endCall is the mock of EndLinkRequest; After on it delays each call.
	endCall *testsuite.MockCallWrapper
}

func newLinkEnv(t *testing.T) *linkEnv {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := &linkEnv{TestWorkflowEnvironment: suite.NewTestWorkflowEnvironment()}
	env.SetStartTime(start)
	worker.RegisterWorkflows(env)
	env.RegisterActivity(&activities.Activities{})
	env.OnActivity("CreateLinkRequest", anyContext, anyInput).Return(func(context.Context, activities.CreateLinkRequestInput) error {
		env.created++
		return env.createErr
	})
	env.endCall = env.OnActivity("EndLinkRequest", anyContext, anyInput).Return(func(_ context.Context, in activities.EndLinkRequestInput) error {
		if env.endErr != nil {
			if err := env.endErr(in); err != nil {
				return err
			}
		}
		env.ended = append(env.ended, in)
		return nil
	})
	return env
}

func linkInput() workflows.AccountLinkInput {
	return workflows.AccountLinkInput{
		RequestID:   "link-1",
		AccountID:   "account-1",
		RequesterID: linkRequester,
		ExpiresAt:   start.Add(linkTTL),
	}
}

// linkUpdate records the outcome of one update.
type linkUpdate struct {
	sent      bool
	rejectErr error
	accepted  bool
	completed bool
	err       error
}

// update sends the named update with actor as LinkDecision.ActorID after delay.
func (env *linkEnv) update(name, actor string, delay time.Duration) *linkUpdate {
	out := &linkUpdate{}
	env.RegisterDelayedCallback(func() { env.send(out, name, workflows.LinkDecision{ActorID: actor}) }, delay)
	return out
}

func (env *linkEnv) send(out *linkUpdate, name string, args ...any) {
	out.sent = true
	env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
		OnReject:   func(err error) { out.rejectErr = err },
		OnAccept:   func() { out.accepted = true },
		OnComplete: func(_ any, err error) { out.completed, out.err = true, err },
	}, args...)
}

// begin sends the begin update at the start, as the API's update-with-start does.
func (env *linkEnv) begin() *linkUpdate {
	out := &linkUpdate{}
	env.RegisterDelayedCallback(func() { env.send(out, workflows.UpdateBeginAccountLink) }, 0)
	return out
}

func (env *linkEnv) result(t *testing.T) workflows.AccountLinkResult {
	t.Helper()
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow failed: %v", err)
	}
	var res workflows.AccountLinkResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	return res
}

func linkErrorType(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Type()
	}
	return ""
}

func requireLinkDone(t *testing.T, what string, out *linkUpdate) {
	t.Helper()
	if !out.accepted || !out.completed || out.err != nil {
		t.Fatalf("%s: accepted=%t completed=%t err=%v rejected=%v, want completed without error",
			what, out.accepted, out.completed, out.err, out.rejectErr)
	}
}

func requireLinkRejected(t *testing.T, what string, out *linkUpdate, errType string) {
	t.Helper()
	if !out.sent {
		t.Fatalf("%s was never sent", what)
	}
	if out.accepted {
		t.Fatalf("%s was accepted, want rejected by the validator", what)
	}
	if got := linkErrorType(out.rejectErr); got != errType {
		t.Fatalf("%s rejected with %v (type %q), want type %q", what, out.rejectErr, got, errType)
	}
}

func TestAccountLink_ApproveEndsApproved(t *testing.T) {
	env := newLinkEnv(t)
	began := env.begin()
	approve := env.update(workflows.UpdateApproveAccountLink, linkApplicant, time.Hour)
	env.ExecuteWorkflow(workflows.AccountLinkWorkflow, linkInput())

	if res := env.result(t); res.Status != models.LinkApproved {
		t.Fatalf("status = %s, want approved", res.Status)
	}
	requireLinkDone(t, "begin", began)
	requireLinkDone(t, "approve", approve)
	if env.created != 1 {
		t.Errorf("CreateLinkRequest ran %d times, want 1", env.created)
	}
	want := activities.EndLinkRequestInput{RequestID: "link-1", Status: models.LinkApproved, ActorID: linkApplicant}
	if len(env.ended) != 1 || env.ended[0] != want {
		t.Fatalf("EndLinkRequest calls = %+v, want one %+v", env.ended, want)
	}
}

func TestAccountLink_RejectEndsRejected(t *testing.T) {
	env := newLinkEnv(t)
	reject := env.update(workflows.UpdateRejectAccountLink, linkApplicant, time.Hour)
	env.ExecuteWorkflow(workflows.AccountLinkWorkflow, linkInput())

	if res := env.result(t); res.Status != models.LinkRejected {
		t.Fatalf("status = %s, want rejected", res.Status)
	}
	requireLinkDone(t, "reject", reject)
	if len(env.ended) != 1 || env.ended[0].Status != models.LinkRejected || env.ended[0].ActorID != linkApplicant {
		t.Fatalf("EndLinkRequest calls = %+v, want one rejection by the applicant", env.ended)
	}
}

func TestAccountLink_CancelByRequesterOnly(t *testing.T) {
	env := newLinkEnv(t)
	byOther := env.update(workflows.UpdateCancelAccountLink, linkApplicant, time.Hour)
	byRequester := env.update(workflows.UpdateCancelAccountLink, linkRequester, 2*time.Hour)
	env.ExecuteWorkflow(workflows.AccountLinkWorkflow, linkInput())

	if res := env.result(t); res.Status != models.LinkCancelled {
		t.Fatalf("status = %s, want cancelled", res.Status)
	}
	requireLinkRejected(t, "cancel by the applicant", byOther, workflows.ErrTypeActorNotAllowed)
	requireLinkDone(t, "cancel by the requester", byRequester)
	if len(env.ended) != 1 || env.ended[0].ActorID != linkRequester {
		t.Fatalf("EndLinkRequest calls = %+v, want one cancellation by the requester", env.ended)
	}
}

func TestAccountLink_RequesterCannotApprove(t *testing.T) {
	env := newLinkEnv(t)
	selfApproval := env.update(workflows.UpdateApproveAccountLink, linkRequester, time.Hour)
	env.ExecuteWorkflow(workflows.AccountLinkWorkflow, linkInput())

	requireLinkRejected(t, "approval by the requester", selfApproval, workflows.ErrTypeActorNotAllowed)
	if res := env.result(t); res.Status != models.LinkExpired {
		t.Fatalf("status = %s, want expired", res.Status)
	}
}

func TestAccountLink_ExpiresOnTimer(t *testing.T) {
	env := newLinkEnv(t)
	env.ExecuteWorkflow(workflows.AccountLinkWorkflow, linkInput())

	if res := env.result(t); res.Status != models.LinkExpired {
		t.Fatalf("status = %s, want expired", res.Status)
	}
	if len(env.ended) != 1 || env.ended[0].Status != models.LinkExpired || env.ended[0].ActorID != "" {
		t.Fatalf("EndLinkRequest calls = %+v, want one expiry without actor", env.ended)
	}
	if now := env.Now(); now.Before(start.Add(linkTTL)) {
		t.Errorf("expired at %s, before the deadline %s", now, start.Add(linkTTL))
	}
}

func TestAccountLink_SecondDecisionDuringFirstRejected(t *testing.T) {
	env := newLinkEnv(t)
	// The approval's activity takes a minute; the rejection arrives while it runs.
	env.endCall.After(time.Minute)
	approve := env.update(workflows.UpdateApproveAccountLink, linkApplicant, time.Hour)
	sameMoment := env.update(workflows.UpdateRejectAccountLink, linkApplicant, time.Hour)
	meanwhile := env.update(workflows.UpdateRejectAccountLink, linkApplicant, time.Hour+30*time.Second)
	env.ExecuteWorkflow(workflows.AccountLinkWorkflow, linkInput())

	if res := env.result(t); res.Status != models.LinkApproved {
		t.Fatalf("status = %s, want approved", res.Status)
	}
	requireLinkDone(t, "approve", approve)
	requireLinkRejected(t, "rejection at the same moment", sameMoment, workflows.ErrTypeNotPending)
	requireLinkRejected(t, "rejection while the approval is stored", meanwhile, workflows.ErrTypeNotPending)
	if len(env.ended) != 1 {
		t.Fatalf("EndLinkRequest ran %d times, want 1", len(env.ended))
	}
}

func TestAccountLink_DecisionAfterDeadlineRejected(t *testing.T) {
	env := newLinkEnv(t)
	input := linkInput()
	// A deadline already passed, as after a worker outage: the flow expires
	// at once and rejects the approval.
	input.ExpiresAt = start.Add(-time.Minute)
	approve := env.update(workflows.UpdateApproveAccountLink, linkApplicant, 0)
	env.ExecuteWorkflow(workflows.AccountLinkWorkflow, input)

	if res := env.result(t); res.Status != models.LinkExpired {
		t.Fatalf("status = %s, want expired", res.Status)
	}
	requireLinkRejected(t, "approval after the deadline", approve, workflows.ErrTypeNotPending)
}

func TestAccountLink_SweptRequestKeepsExpiry(t *testing.T) {
	env := newLinkEnv(t)
	env.endErr = func(in activities.EndLinkRequestInput) error {
		return temporal.NewNonRetryableApplicationError("ended", activities.ErrTypeLinkRequestEnded, nil, models.LinkExpired)
	}
	approve := env.update(workflows.UpdateApproveAccountLink, linkApplicant, time.Hour)
	env.ExecuteWorkflow(workflows.AccountLinkWorkflow, linkInput())

	if res := env.result(t); res.Status != models.LinkExpired {
		t.Fatalf("status = %s, want expired as the database has it", res.Status)
	}
	if !approve.accepted || linkErrorType(approve.err) != workflows.ErrTypeNotPending {
		t.Fatalf("approval = %+v, want accepted and then failed with %s", approve, workflows.ErrTypeNotPending)
	}
}

func TestAccountLink_FailedStoreKeepsPending(t *testing.T) {
	env := newLinkEnv(t)
	// The database is down for the first ten minutes after the approval.
	outageEnds := start.Add(time.Hour + 10*time.Minute)
	env.endErr = func(activities.EndLinkRequestInput) error {
		if env.Now().Before(outageEnds) {
			return errors.New("database unavailable")
		}
		return nil
	}
	first := env.update(workflows.UpdateApproveAccountLink, linkApplicant, time.Hour)
	retry := env.update(workflows.UpdateApproveAccountLink, linkApplicant, 2*time.Hour)
	env.ExecuteWorkflow(workflows.AccountLinkWorkflow, linkInput())

	if !first.accepted || first.err == nil {
		t.Fatalf("first approval = %+v, want accepted and then failed", first)
	}
	requireLinkDone(t, "approval after the outage", retry)
	if res := env.result(t); res.Status != models.LinkApproved {
		t.Fatalf("status = %s, want approved", res.Status)
	}
}

func TestAccountLink_RefusedBeginEndsNotCreated(t *testing.T) {
	env := newLinkEnv(t)
	env.createErr = temporal.NewNonRetryableApplicationError("open", activities.ErrTypeLinkRequestOpen, nil)
	began := env.begin()
	env.ExecuteWorkflow(workflows.AccountLinkWorkflow, linkInput())

	if res := env.result(t); res.Status != workflows.LinkNotCreated {
		t.Fatalf("status = %s, want %s", res.Status, workflows.LinkNotCreated)
	}
	if !began.completed || linkErrorType(began.err) != activities.ErrTypeLinkRequestOpen {
		t.Fatalf("begin = %+v, want failed with %s", began, activities.ErrTypeLinkRequestOpen)
	}
	if len(env.ended) != 0 {
		t.Errorf("EndLinkRequest ran for a request never stored: %+v", env.ended)
	}
}
