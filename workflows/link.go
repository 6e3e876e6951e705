package workflows

import (
	"errors"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/gdyst/accountflows/activities"
	"github.com/gdyst/accountflows/models"
)

// AccountLink waits for the applicant to approve or reject a link request,
// for the requester to cancel it, or for its expiry.
//
// Updates run one at a time in the workflow's coroutines, and an update's
// validator and the start of its handler run without a yield in between.
// The handler claims the decision (ending) before its activity runs, so a
// second decision arriving while the first is being stored is rejected by
// its validator, and exactly one decision wins. The activities are
// conditional updates in the database as well, so a row the hourly sweep
// expired keeps that outcome.
func AccountLink(ctx workflow.Context, in AccountLinkInput) (AccountLinkResult, error) {
	l := &accountLink{in: in, status: models.LinkPendingApproval}
	if err := l.setup(ctx); err != nil {
		return AccountLinkResult{}, err
	}
	return l.run(ctx)
}

type accountLink struct {
	in       AccountLinkInput
	status   string
	began    bool
	beginErr error
	// ending is the status a decision or the expiry is storing, and empty
	// while no activity is storing one.
	ending string
}

var accountLinkDetails = map[string]string{
	models.LinkPendingApproval: "等待账号申请人登录法人账号后审批关联申请",
	models.LinkApproved:        "账号申请人已同意，申请人已授权为经办人",
	models.LinkRejected:        "账号申请人已拒绝关联申请",
	models.LinkCancelled:       "申请人已撤销关联申请",
	models.LinkExpired:         "超过有效期未审批，关联申请已过期",
	LinkNotCreated:             "关联申请未创建：申请人已是该账号成员，或已有待审批的申请",
}

func (l *accountLink) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (string, error) { return l.status, nil }); err != nil {
		return err
	}
	err := workflow.SetUpdateHandler(ctx, UpdateBeginAccountLink, func(ctx workflow.Context) error {
		if err := workflow.Await(ctx, func() bool { return l.began || l.beginErr != nil }); err != nil {
			return err
		}
		return l.beginErr
	})
	if err != nil {
		return err
	}
	decisions := []struct {
		name      string
		status    string
		validator func(workflow.Context, LinkDecision) error
	}{
		{UpdateApproveAccountLink, models.LinkApproved, l.validateApplicantDecision},
		{UpdateRejectAccountLink, models.LinkRejected, l.validateApplicantDecision},
		{UpdateCancelAccountLink, models.LinkCancelled, l.validateCancel},
	}
	for _, d := range decisions {
		status, validator := d.status, d.validator
		handler := func(ctx workflow.Context, decision LinkDecision) error {
			// The handler runs on replay too, where validators do not.
			if err := validator(ctx, decision); err != nil {
				return err
			}
			return l.decide(ctx, status, decision.ActorID)
		}
		err := workflow.SetUpdateHandlerWithOptions(ctx, d.name, handler, workflow.UpdateHandlerOptions{Validator: validator})
		if err != nil {
			return err
		}
	}
	return nil
}

// requirePending rejects an update once the request is no longer pending,
// a decision is being stored, or the expiry has passed, even when the timer
// that ends the request has not been handled yet.
func (l *accountLink) requirePending(ctx workflow.Context) error {
	switch {
	case !l.began:
		return temporal.NewApplicationError("the account link request is not stored yet", ErrTypeNotPending)
	case l.ending != "":
		return temporal.NewApplicationError("the account link request is being "+l.ending, ErrTypeNotPending)
	case l.status != models.LinkPendingApproval:
		return temporal.NewApplicationError("the account link request is "+l.status, ErrTypeNotPending)
	case !workflow.Now(ctx).Before(l.in.ExpiresAt):
		return temporal.NewApplicationError("the account link request has expired", ErrTypeNotPending)
	}
	return nil
}

func (l *accountLink) validateApplicantDecision(ctx workflow.Context, d LinkDecision) error {
	if err := l.requirePending(ctx); err != nil {
		return err
	}
	if d.ActorID == "" || d.ActorID == l.in.RequesterID {
		return temporal.NewApplicationError("the requester cannot decide their own link request", ErrTypeActorNotAllowed)
	}
	return nil
}

func (l *accountLink) validateCancel(ctx workflow.Context, d LinkDecision) error {
	if err := l.requirePending(ctx); err != nil {
		return err
	}
	if d.ActorID != l.in.RequesterID {
		return temporal.NewApplicationError("only the requester can cancel a link request", ErrTypeActorNotAllowed)
	}
	return nil
}

// decide claims the request's end for status and stores it. A person is
// waiting on the HTTP response, so the activity gives up after a minute.
// Then the claim is released and the request stays pending.
func (l *accountLink) decide(ctx workflow.Context, status, actorID string) error {
	l.ending = status
	return l.store(ctx, status, actorID, shortActivityOptions)
}

func (l *accountLink) run(ctx workflow.Context) (AccountLinkResult, error) {
	if err := l.begin(ctx); err != nil {
		if !isBusinessRuleError(err) {
			// The database stayed unreachable: the flow fails once the begin
			// update has returned the error to the API.
			_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
			return AccountLinkResult{}, err
		}
		l.status = LinkNotCreated
		return AccountLinkResult{Status: l.status}, l.finish(ctx)
	}
	workflow.SetCurrentDetails(ctx, accountLinkDetails[models.LinkPendingApproval])

	for l.status == models.LinkPendingApproval {
		if l.ending == "" {
			expired, err := l.awaitDecisionOrExpiry(ctx)
			if err != nil {
				return AccountLinkResult{}, err
			}
			if expired {
				l.ending = models.LinkExpired
				err := l.store(ctx, models.LinkExpired, "", activityOptions)
				if err != nil && applicationErrorType(err) != ErrTypeNotPending {
					return AccountLinkResult{}, err
				}
				continue
			}
		}
		// An update handler is storing a decision: wait until it is stored
		// or its activity gives up.
		if err := workflow.Await(ctx, func() bool { return l.ending == "" }); err != nil {
			return AccountLinkResult{}, err
		}
	}
	return AccountLinkResult{Status: l.status}, l.finish(ctx)
}

// awaitDecisionOrExpiry blocks until an update claims a decision or the
// request's expiry passes, which a durable timer measures.
func (l *accountLink) awaitDecisionOrExpiry(ctx workflow.Context) (expired bool, err error) {
	remaining := l.in.ExpiresAt.Sub(workflow.Now(ctx))
	if remaining <= 0 {
		return true, nil
	}
	decided, err := workflow.AwaitWithTimeout(ctx, remaining, func() bool { return l.ending != "" })
	return !decided, err
}

// begin inserts the request's row in a local activity within the first
// workflow task, so the API's update-with-start returns in one round trip.
func (l *accountLink) begin(ctx workflow.Context) error {
	ctx = workflow.WithLocalActivityOptions(ctx, beginLocalActivityOptions)
	err := workflow.ExecuteLocalActivity(ctx, acts.CreateLinkRequest, activities.CreateLinkRequestInput{
		RequestID:   l.in.RequestID,
		AccountID:   l.in.AccountID,
		RequesterID: l.in.RequesterID,
		WorkflowID:  workflow.GetInfo(ctx).WorkflowExecution.ID,
		ExpiresAt:   l.in.ExpiresAt,
	}).Get(ctx, nil)
	if err != nil {
		l.beginErr = err
		return err
	}
	l.began = true
	return nil
}

// isBusinessRuleError reports whether the request was not stored because a
// business rule rejected it, rather than because the database failed.
func isBusinessRuleError(err error) bool {
	switch applicationErrorType(err) {
	case activities.ErrTypeAccountNotCertified, activities.ErrTypeAlreadyMember, activities.ErrTypeLinkRequestOpen:
		return true
	}
	return false
}

// store writes the end of the request to the database and clears ending.
// When the database shows the request already ended otherwise (the sweep
// expired it), the flow takes that outcome and store returns an
// ErrTypeNotPending error.
func (l *accountLink) store(ctx workflow.Context, status, actorID string, options workflow.ActivityOptions) error {
	ctx = workflow.WithActivityOptions(ctx, options)
	err := workflow.ExecuteActivity(ctx, acts.EndLinkRequest, activities.EndLinkRequestInput{
		RequestID: l.in.RequestID,
		Status:    status,
		ActorID:   actorID,
	}).Get(ctx, nil)
	l.ending = ""

	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() == activities.ErrTypeLinkRequestEnded {
		stored := models.LinkExpired
		if appErr.HasDetails() {
			_ = appErr.Details(&stored)
		}
		l.status = stored
		return temporal.NewApplicationError("the account link request is "+stored, ErrTypeNotPending)
	}
	if err != nil {
		workflow.GetLogger(ctx).Warn("unable to store the end of an account link request", "link_request_id", l.in.RequestID, "status", status, "error", err)
		return err
	}
	l.status = status
	workflow.GetLogger(ctx).Info("account link request ended", "link_request_id", l.in.RequestID, "status", status)
	return nil
}

// finish waits for update handlers still running and publishes the final status.
func (l *accountLink) finish(ctx workflow.Context) error {
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx, AttrFlowStatus.ValueSet(l.status))
	workflow.SetCurrentDetails(ctx, accountLinkDetails[l.status])
	return nil
}

// applicationErrorType returns the type of the first Temporal application
// error in err's chain, or "".
func applicationErrorType(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Type()
	}
	return ""
}
