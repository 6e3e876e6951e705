package workflows

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/gdyst/accountflows/activities"
	"github.com/gdyst/accountflows/face"
	"github.com/gdyst/accountflows/models"
)

// CertificationRequest waits for the legal representative to agree to,
// refuse, or let expire an agent's request to certify an enterprise
// account, or for the agent to cancel it. After consent it waits for the
// legal representative's face verification: a pass certifies the account if
// the registry still names the verified person, and the third failure ends
// the request as failed.
//
// Every step that changes the request holds lock, so update handlers and
// the main loop never interleave their activities. Agree, refuse and cancel
// are updates whose validators reject a request that is no longer open.
func CertificationRequest(ctx workflow.Context, in CertificationRequestInput) (CertificationRequestResult, error) {
	f := &certification{
		in:            in,
		status:        models.CertificationPendingConsent,
		verifications: newVerificationSet(models.PurposeCertificationRequest, in.CallbackURL, in.VerificationTTL),
		expected:      map[string]face.Identity{},
		wake:          workflow.NewBufferedChannel(ctx, 1),
		lock:          workflow.NewMutex(ctx),
	}
	if err := f.setup(ctx); err != nil {
		return CertificationRequestResult{}, err
	}
	return f.run(ctx)
}

type certification struct {
	in        CertificationRequestInput
	status    string
	created   bool
	createErr error
	// legalRepID is the legal representative's person once certified.
	legalRepID    string
	verifications *verificationSet
	// expected is the identity each verification begun expects: the
	// registry's legal representative at the time it began.
	expected map[string]face.Identity
	// mismatches counts passed verifications of someone the registry no
	// longer names as legal representative; they count as failures.
	mismatches int
	// wake lets an update handler that ended the request interrupt the
	// main loop's wait.
	wake workflow.Channel
	lock workflow.Mutex
}

var certificationDetails = map[string]string{
	models.CertificationPendingConsent:      "等待法定代表人打开分享链接并同意认证申请",
	models.CertificationPendingVerification: "法定代表人已同意，等待其在粤信签小程序完成人脸核验",
	models.CertificationCertified:           "法定代表人人脸核验通过：企业账户已认证，申请人已授权为经办人",
	models.CertificationRefused:             "法定代表人拒绝了认证申请",
	models.CertificationCancelled:           "申请人撤销了认证申请",
	models.CertificationExpired:             "超过有效期未完成，认证申请已过期",
	models.CertificationFailed:              "人脸核验三次未通过，认证申请已结束",
	CertificationNotCreated:                 "认证申请未创建：该账号已认证，或已有进行中的认证申请",
}

func (f *certification) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (string, error) { return f.status, nil }); err != nil {
		return err
	}
	err := workflow.SetUpdateHandler(ctx, UpdateBeginCertificationRequest, func(ctx workflow.Context) error {
		if err := workflow.Await(ctx, func() bool { return f.created || f.createErr != nil }); err != nil {
			return err
		}
		return f.createErr
	})
	if err != nil {
		return err
	}
	err = workflow.SetUpdateHandlerWithOptions(ctx, UpdateAgreeCertification, f.agree,
		workflow.UpdateHandlerOptions{Validator: f.validateAgree})
	if err != nil {
		return err
	}
	err = workflow.SetUpdateHandlerWithOptions(ctx, UpdateRefuseCertification, f.refuse,
		workflow.UpdateHandlerOptions{Validator: f.requireOpen})
	if err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateCancelCertification, f.cancel,
		workflow.UpdateHandlerOptions{Validator: func(CancelCertificationRequest) error { return f.requireOpen() }})
}

func (f *certification) open() bool {
	return f.status == models.CertificationPendingConsent || f.status == models.CertificationPendingVerification
}

// requireOpen rejects an update for a request that was never stored, has
// ended, or whose end a step has already claimed.
func (f *certification) requireOpen() error {
	if !f.created || !f.open() {
		return temporal.NewNonRetryableApplicationError("the certification request is "+f.status, ErrTypeCertificationRequestNotOpen, nil)
	}
	return nil
}

func (f *certification) validateAgree(req AgreeCertificationRequest) error {
	if err := f.requireOpen(); err != nil {
		return err
	}
	if req.VerificationID == "" {
		return temporal.NewNonRetryableApplicationError("agree needs a verification id", "InvalidArgument", nil)
	}
	return f.requireVerificationsLeft()
}

func (f *certification) requireVerificationsLeft() error {
	if len(f.expected) >= MaxCertificationVerifications {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("the request has started %d verifications", len(f.expected)), ErrTypeTooManyVerifications, nil)
	}
	return nil
}

// agree begins a face verification that expects the registry's current
// legal representative, and on the first consent moves the request to
// pending_verification.
func (f *certification) agree(ctx workflow.Context, req AgreeCertificationRequest) (Verification, error) {
	if err := f.lock.Lock(ctx); err != nil {
		return Verification{}, err
	}
	defer f.lock.Unlock()
	if err := f.requireOpen(); err != nil {
		return Verification{}, err
	}
	if err := f.requireVerificationsLeft(); err != nil {
		return Verification{}, err
	}

	rep, err := f.lookupLegalRep(ctx, shortActivityOptions)
	if err != nil {
		return Verification{}, err
	}
	v, err := f.verifications.begin(ctx, req.VerificationID, rep)
	if err != nil {
		return Verification{}, err
	}
	f.expected[v.ID] = rep
	if f.status == models.CertificationPendingVerification {
		return v, nil
	}

	actx := workflow.WithActivityOptions(ctx, shortActivityOptions)
	if err := workflow.ExecuteActivity(actx, acts.AgreeCertificationRequest, f.in.RequestID).Get(ctx, nil); err != nil {
		return Verification{}, err
	}
	f.setStatus(ctx, models.CertificationPendingVerification)
	return v, nil
}

func (f *certification) refuse(ctx workflow.Context) (CertificationDecisionResult, error) {
	return f.end(ctx, models.CertificationRefused, "")
}

func (f *certification) cancel(ctx workflow.Context, req CancelCertificationRequest) (CertificationDecisionResult, error) {
	return f.end(ctx, models.CertificationCancelled, req.ActorID)
}

// end claims the end of the request before its activity runs, so that a
// second decision arriving meanwhile is rejected by its validator.
func (f *certification) end(ctx workflow.Context, status, actorID string) (CertificationDecisionResult, error) {
	if err := f.lock.Lock(ctx); err != nil {
		return CertificationDecisionResult{}, err
	}
	defer f.lock.Unlock()
	if err := f.requireOpen(); err != nil {
		return CertificationDecisionResult{}, err
	}
	f.status = status
	f.wake.SendAsync(nil)
	if err := f.store(ctx, status, actorID); err != nil {
		return CertificationDecisionResult{}, err
	}
	return CertificationDecisionResult{Status: status}, nil
}

func (f *certification) run(ctx workflow.Context) (CertificationRequestResult, error) {
	if err := f.create(ctx); err != nil {
		// The request was never stored: the account has an open request,
		// is certified already, or the database stayed unreachable.
		f.status = CertificationNotCreated
		return CertificationRequestResult{Status: f.status}, f.finish(ctx)
	}
	workflow.SetCurrentDetails(ctx, certificationDetails[f.status])

	timerCtx, cancelTimer := workflow.WithCancel(ctx)
	defer cancelTimer()
	timer := workflow.NewTimer(timerCtx, max(f.in.ExpiresAt.Sub(workflow.Now(ctx)), 0))
	reports := workflow.GetSignalChannel(ctx, SignalVerificationReported)

	for f.open() {
		var report VerificationReported
		expired, reported := false, false
		selector := workflow.NewSelector(ctx)
		selector.AddFuture(timer, func(workflow.Future) { expired = true })
		selector.AddReceive(reports, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, &report); reported = true })
		selector.AddReceive(f.wake, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
		selector.Select(ctx)

		if err := f.step(ctx, expired, reported, report.VerificationID); err != nil {
			return CertificationRequestResult{}, err
		}
	}
	return CertificationRequestResult{Status: f.status, LegalRepPersonID: f.legalRepID}, f.finish(ctx)
}

// step handles what woke the main loop, under the lock.
func (f *certification) step(ctx workflow.Context, expired, reported bool, verificationID string) error {
	if err := f.lock.Lock(ctx); err != nil {
		return err
	}
	defer f.lock.Unlock()
	switch {
	case !f.open():
		return nil
	case expired:
		f.status = models.CertificationExpired
		return f.store(ctx, models.CertificationExpired, "")
	case reported:
		return f.handleReport(ctx, verificationID)
	}
	return nil
}

// create inserts the request's row in a local activity within the first
// workflow task, so the API's update-with-start returns in one round trip.
func (f *certification) create(ctx workflow.Context) error {
	ctx = workflow.WithLocalActivityOptions(ctx, beginLocalActivityOptions)
	err := workflow.ExecuteLocalActivity(ctx, acts.CreateCertificationRequest, activities.CreateCertificationRequestInput{
		RequestID:          f.in.RequestID,
		AccountID:          f.in.AccountID,
		RequesterID:        f.in.RequesterID,
		ShareTokenHash:     f.in.ShareTokenHash,
		LegalRepNameMasked: f.in.LegalRepNameMasked,
		WorkflowID:         workflow.GetInfo(ctx).WorkflowExecution.ID,
		ExpiresAt:          f.in.ExpiresAt,
	}).Get(ctx, nil)
	if err != nil {
		f.createErr = err
		return err
	}
	f.created = true
	return nil
}

func (f *certification) handleReport(ctx workflow.Context, verificationID string) error {
	expected := f.expected[verificationID]
	verdict, known, err := f.verifications.check(ctx, verificationID)
	if !known {
		return nil
	}
	if err != nil {
		// The provider stayed unreachable; the legal representative can
		// agree again for another verification.
		workflow.GetLogger(ctx).Warn("unable to check face verification", "verification_id", verificationID, "error", err)
		return nil
	}
	switch verdict.Status {
	case models.VerificationPending:
		return nil
	case models.VerificationPassed:
		return f.certify(ctx, verificationID, expected)
	}
	return f.countFailure(ctx)
}

// certify reads the registry again and certifies the account only if it
// still names the person whose face passed. Otherwise the pass counts as a
// failed verification.
func (f *certification) certify(ctx workflow.Context, verificationID string, verified face.Identity) error {
	current, err := f.lookupLegalRep(ctx, activityOptions)
	if err != nil || current != verified {
		workflow.GetLogger(ctx).Warn("the registry no longer names the verified person as legal representative",
			"verification_id", verificationID, "registry_error", err)
		f.mismatches++
		return f.countFailure(ctx)
	}

	f.status = models.CertificationCertified
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	var res activities.CertifyAccountResult
	err = workflow.ExecuteActivity(ctx, acts.CertifyAccount, activities.CertifyAccountInput{
		RequestID: f.in.RequestID,
		LegalRep:  verified,
	}).Get(ctx, &res)
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() == activities.ErrTypeCertificationRequestEnded {
		// The sweep expired the request in the database first.
		f.status = models.CertificationExpired
		return nil
	}
	if err != nil {
		return err
	}
	f.legalRepID = res.LegalRepPersonID
	return nil
}

// countFailure stores the number of failed verifications and ends the
// request as failed at MaxCertificationVerificationFailures.
func (f *certification) countFailure(ctx workflow.Context) error {
	failures := f.verifications.failures + f.mismatches
	actx := workflow.WithActivityOptions(ctx, activityOptions)
	err := workflow.ExecuteActivity(actx, acts.RecordCertificationFailure, activities.RecordCertificationFailureInput{
		RequestID: f.in.RequestID,
		Failures:  failures,
	}).Get(ctx, nil)
	if err != nil {
		return err
	}
	if failures >= MaxCertificationVerificationFailures {
		f.status = models.CertificationFailed
		return f.store(ctx, models.CertificationFailed, "")
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("%s（人脸核验已失败 %d 次，第 %d 次失败后申请结束）",
		certificationDetails[f.status], failures, MaxCertificationVerificationFailures))
	return nil
}

// lookupLegalRep reads the enterprise's current legal representative from
// the registry.
func (f *certification) lookupLegalRep(ctx workflow.Context, options workflow.ActivityOptions) (face.Identity, error) {
	ctx = workflow.WithActivityOptions(ctx, options)
	var rep face.Identity
	err := workflow.ExecuteActivity(ctx, acts.LookupLegalRepresentative, f.in.USCC).Get(ctx, &rep)
	return rep, err
}

// store writes the end of the request to the database.
func (f *certification) store(ctx workflow.Context, status, actorID string) error {
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	return workflow.ExecuteActivity(ctx, acts.EndCertificationRequest, activities.EndCertificationRequestInput{
		RequestID: f.in.RequestID,
		Status:    status,
		ActorID:   actorID,
	}).Get(ctx, nil)
}

// setStatus moves an open request to another open status and publishes it.
func (f *certification) setStatus(ctx workflow.Context, status string) {
	f.status = status
	_ = workflow.UpsertTypedSearchAttributes(ctx, AttrFlowStatus.ValueSet(status))
	workflow.SetCurrentDetails(ctx, certificationDetails[status])
}

// finish waits for update handlers still running, closes open
// verifications and publishes the final status.
func (f *certification) finish(ctx workflow.Context) error {
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	f.verifications.expireAll(ctx)
	_ = workflow.UpsertTypedSearchAttributes(ctx, AttrFlowStatus.ValueSet(f.status))
	workflow.SetCurrentDetails(ctx, certificationDetails[f.status])
	return nil
}
