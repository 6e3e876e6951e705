package workflows

import (
	"errors"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/gdyst/accountflows/activities"
	"github.com/gdyst/accountflows/models"
)

// AgentInvitation waits for the invitee to pass face verification through
// the share link, for the legal representative to revoke the invitation, or
// for its expiry. A passed verification makes the invitee an agent; the
// third failed one ends the invitation as failed.
func AgentInvitation(ctx workflow.Context, in AgentInvitationInput) (AgentInvitationResult, error) {
	f := &invitation{
		in:            in,
		status:        models.InvitationPending,
		verifications: newVerificationSet(models.PurposeAgentInvitation, in.CallbackURL, in.VerificationTTL),
		wake:          workflow.NewBufferedChannel(ctx, 1),
	}
	if err := f.setup(ctx); err != nil {
		return AgentInvitationResult{}, err
	}
	return f.run(ctx)
}

type invitation struct {
	in            AgentInvitationInput
	status        string
	began         bool
	beginErr      error
	agentID       string
	verifications *verificationSet
	// wake lets an update handler interrupt the main loop's wait.
	wake workflow.Channel
}

var invitationDetails = map[string]string{
	models.InvitationPending:  "等待被邀请人打开分享链接并完成人脸核验",
	models.InvitationAccepted: "被邀请人已通过人脸核验，已授权为经办人",
	models.InvitationRevoked:  "法定代表人已撤销邀请",
	models.InvitationExpired:  "邀请已过期",
	models.InvitationFailed:   "人脸核验三次未通过，邀请已失效",
}

func (f *invitation) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (string, error) { return f.status, nil }); err != nil {
		return err
	}
	err := workflow.SetUpdateHandler(ctx, UpdateBeginInvitation, func(ctx workflow.Context) error {
		if err := workflow.Await(ctx, func() bool { return f.began || f.beginErr != nil }); err != nil {
			return err
		}
		return f.beginErr
	})
	if err != nil {
		return err
	}
	err = workflow.SetUpdateHandlerWithOptions(ctx, UpdateStartInviteeVerification, f.startVerification,
		workflow.UpdateHandlerOptions{Validator: func(StartVerificationRequest) error { return f.requirePending() }})
	if err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateRevokeInvitation, f.revoke,
		workflow.UpdateHandlerOptions{Validator: func(RevokeRequest) error { return f.requirePending() }})
}

func (f *invitation) requirePending() error {
	if !f.began || f.status != models.InvitationPending {
		return temporal.NewApplicationError("the invitation is "+f.status, ErrTypeNotPending)
	}
	return nil
}

func (f *invitation) startVerification(ctx workflow.Context, req StartVerificationRequest) (Verification, error) {
	return f.verifications.begin(ctx, req.VerificationID, f.in.Invitee)
}

// revoke claims the end of the invitation before its activity runs, so a
// second revocation or a passing verification arriving meanwhile finds it
// no longer pending.
func (f *invitation) revoke(ctx workflow.Context, req RevokeRequest) error {
	if err := f.requirePending(); err != nil {
		return err
	}
	f.status = models.InvitationRevoked
	f.wake.SendAsync(nil)
	return f.store(ctx, models.InvitationRevoked, req.ActorID)
}

func (f *invitation) run(ctx workflow.Context) (AgentInvitationResult, error) {
	if err := f.begin(ctx); err != nil {
		// The invitation was never stored: a duplicate or a current agent.
		f.status = ""
		return AgentInvitationResult{}, f.finish(ctx)
	}
	workflow.SetCurrentDetails(ctx, invitationDetails[models.InvitationPending])

	timerCtx, cancelTimer := workflow.WithCancel(ctx)
	defer cancelTimer()
	timer := workflow.NewTimer(timerCtx, f.in.ExpiresAt.Sub(workflow.Now(ctx)))
	reports := workflow.GetSignalChannel(ctx, SignalVerificationReported)

	for f.status == models.InvitationPending {
		var report VerificationReported
		expired, reported := false, false
		selector := workflow.NewSelector(ctx)
		selector.AddFuture(timer, func(workflow.Future) { expired = true })
		selector.AddReceive(reports, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, &report); reported = true })
		selector.AddReceive(f.wake, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
		selector.Select(ctx)

		switch {
		case f.status != models.InvitationPending:
		case expired:
			f.status = models.InvitationExpired
			if err := f.store(ctx, models.InvitationExpired, ""); err != nil {
				return AgentInvitationResult{}, err
			}
		case reported:
			if err := f.handleReport(ctx, report.VerificationID); err != nil {
				return AgentInvitationResult{}, err
			}
		}
	}
	return AgentInvitationResult{Status: f.status, AgentPersonID: f.agentID}, f.finish(ctx)
}

// begin inserts the invitation's row in a local activity within the first
// workflow task, so the API's update-with-start returns in one round trip.
func (f *invitation) begin(ctx workflow.Context) error {
	ctx = workflow.WithLocalActivityOptions(ctx, beginLocalActivityOptions)
	err := workflow.ExecuteLocalActivity(ctx, acts.CreateInvitation, activities.CreateInvitationInput{
		InvitationID:   f.in.InvitationID,
		AccountID:      f.in.AccountID,
		InviterID:      f.in.InviterID,
		Invitee:        f.in.Invitee,
		Mobile:         f.in.Mobile,
		ShareTokenHash: f.in.ShareTokenHash,
		WorkflowID:     workflow.GetInfo(ctx).WorkflowExecution.ID,
		ExpiresAt:      f.in.ExpiresAt,
	}).Get(ctx, nil)
	if err != nil {
		f.beginErr = err
		return err
	}
	f.began = true
	return nil
}

func (f *invitation) handleReport(ctx workflow.Context, verificationID string) error {
	verdict, known, err := f.verifications.check(ctx, verificationID)
	if !known || f.status != models.InvitationPending {
		return nil
	}
	if err != nil {
		// The provider stayed unreachable; the invitee can start another verification.
		workflow.GetLogger(ctx).Warn("unable to check face verification", "verification_id", verificationID, "error", err)
		return nil
	}
	switch verdict.Status {
	case models.VerificationPending:
		return nil
	case models.VerificationPassed:
		return f.accept(ctx)
	}
	failures := f.verifications.failures
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	err = workflow.ExecuteActivity(ctx, acts.RecordInvitationFailure, activities.RecordInvitationFailureInput{
		InvitationID: f.in.InvitationID,
		Failures:     failures,
	}).Get(ctx, nil)
	if err != nil {
		return err
	}
	if failures >= MaxInviteeVerificationFailures {
		f.status = models.InvitationFailed
		return f.store(ctx, models.InvitationFailed, "")
	}
	return nil
}

func (f *invitation) accept(ctx workflow.Context) error {
	f.status = models.InvitationAccepted
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	var res activities.AcceptInvitationResult
	err := workflow.ExecuteActivity(ctx, acts.AcceptInvitation, activities.AcceptInvitationInput{
		InvitationID: f.in.InvitationID,
		Invitee:      f.in.Invitee,
	}).Get(ctx, &res)
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() == activities.ErrTypeInvitationEnded {
		// The sweep expired the invitation in the database first.
		f.status = models.InvitationExpired
		return nil
	}
	if err != nil {
		return err
	}
	f.agentID = res.AgentPersonID
	return nil
}

// store writes the end of the invitation to the database.
func (f *invitation) store(ctx workflow.Context, status, actorID string) error {
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	return workflow.ExecuteActivity(ctx, acts.EndInvitation, activities.EndInvitationInput{
		InvitationID: f.in.InvitationID,
		Status:       status,
		ActorID:      actorID,
	}).Get(ctx, nil)
}

// finish waits for update handlers still running, closes open
// verifications and publishes the final status.
func (f *invitation) finish(ctx workflow.Context) error {
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	if f.status == "" {
		return nil
	}
	f.verifications.expireAll(ctx)
	_ = workflow.UpsertTypedSearchAttributes(ctx, AttrFlowStatus.ValueSet(f.status))
	workflow.SetCurrentDetails(ctx, invitationDetails[f.status])
	return nil
}
