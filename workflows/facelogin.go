package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/gdyst/accountflows/activities"
	"github.com/gdyst/accountflows/models"
)

// acts is a nil receiver used only to name activities in ExecuteActivity.
var acts *activities.Activities

// FaceLogin waits for the person's face verification and then issues a
// person session, or ends as failed or expired.
func FaceLogin(ctx workflow.Context, in FaceLoginInput) (FaceLoginResult, error) {
	f := &faceLogin{in: in, status: models.LoginPending}
	if err := f.setup(ctx); err != nil {
		return FaceLoginResult{}, err
	}
	return f.run(ctx)
}

type faceLogin struct {
	in           FaceLoginInput
	status       string
	failureCode  string
	verification *activities.Verification
	beginErr     error
	reports      int
}

func (f *faceLogin) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (string, error) { return f.status, nil }); err != nil {
		return err
	}
	return workflow.SetUpdateHandler(ctx, UpdateBeginFaceLogin, func(ctx workflow.Context) (activities.Verification, error) {
		if err := workflow.Await(ctx, func() bool { return f.verification != nil || f.beginErr != nil }); err != nil {
			return activities.Verification{}, err
		}
		if f.beginErr != nil {
			return activities.Verification{}, f.beginErr
		}
		return *f.verification, nil
	})
}

func (f *faceLogin) run(ctx workflow.Context) (FaceLoginResult, error) {
	if err := f.begin(ctx); err != nil {
		return FaceLoginResult{}, err
	}
	workflow.SetCurrentDetails(ctx, "等待用户在粤信签小程序完成人脸核验")

	timerCtx, cancelTimer := workflow.WithCancel(ctx)
	defer cancelTimer()
	timer := workflow.NewTimer(timerCtx, f.in.ExpiresAt.Sub(workflow.Now(ctx)))
	reports := workflow.GetSignalChannel(ctx, SignalVerificationReported)

	for f.status == models.LoginPending {
		expired := false
		selector := workflow.NewSelector(ctx)
		selector.AddFuture(timer, func(workflow.Future) { expired = true })
		selector.AddReceive(reports, func(c workflow.ReceiveChannel, _ bool) {
			c.Receive(ctx, nil)
			f.reports++
		})
		selector.Select(ctx)
		// Several reports arriving together need only one look at the provider.
		for reports.ReceiveAsync(nil) {
			f.reports++
		}

		if expired {
			return f.finish(ctx, models.LoginExpired, "")
		}
		verdict, err := f.check(ctx)
		if err != nil {
			return f.finish(ctx, models.LoginFailed, "PROVIDER_ERROR")
		}
		switch verdict.Status {
		case models.VerificationPassed:
			return f.finish(ctx, models.LoginSucceeded, "")
		case models.VerificationPending:
			continue
		default:
			return f.finish(ctx, models.LoginFailed, verdict.FailureCode)
		}
	}
	return FaceLoginResult{Status: f.status, FailureCode: f.failureCode}, nil
}

// begin registers the provider session and inserts the rows. It runs as a
// local activity inside the first workflow task, so the API's
// update-with-start call returns after a single round trip.
func (f *faceLogin) begin(ctx workflow.Context) error {
	ctx = workflow.WithLocalActivityOptions(ctx, beginLocalActivityOptions)
	var v activities.Verification
	err := workflow.ExecuteLocalActivity(ctx, acts.BeginFaceLogin, activities.BeginFaceLoginInput{
		LoginID:          f.in.LoginID,
		VerificationID:   f.in.VerificationID,
		WorkflowID:       workflow.GetInfo(ctx).WorkflowExecution.ID,
		Expected:         f.in.Expected,
		ClientSecretHash: f.in.ClientSecretHash,
		IDHash:           f.in.IDHash,
		ExpiresAt:        f.in.ExpiresAt,
		CallbackURL:      f.in.CallbackURL,
	}).Get(ctx, &v)
	if err != nil {
		f.beginErr = temporal.NewNonRetryableApplicationError("unable to begin face login", "BeginFailed", err)
		return err
	}
	f.verification = &v
	return nil
}

func (f *faceLogin) check(ctx workflow.Context) (activities.CheckVerificationResult, error) {
	ctx = workflow.WithActivityOptions(ctx, checkActivityOptions)
	var verdict activities.CheckVerificationResult
	err := workflow.ExecuteActivity(ctx, acts.CheckVerification, activities.CheckVerificationInput{
		VerificationID: f.in.VerificationID,
		ProviderToken:  f.verification.ProviderToken,
		Expected:       f.in.Expected,
	}).Get(ctx, &verdict)
	return verdict, err
}

func (f *faceLogin) finish(ctx workflow.Context, outcome, failureCode string) (FaceLoginResult, error) {
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	in := activities.FinishFaceLoginInput{
		LoginID:     f.in.LoginID,
		Outcome:     outcome,
		FailureCode: failureCode,
	}
	if outcome == models.LoginSucceeded {
		in.Person = f.in.Expected
		in.SessionTokenHash = f.in.SessionTokenHash
		in.SessionExpiresAt = workflow.Now(ctx).Add(f.in.SessionTTL).Truncate(time.Second)
	}
	var res activities.FinishFaceLoginResult
	err := workflow.ExecuteActivity(ctx, acts.FinishFaceLogin, in).Get(ctx, &res)
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() == "LoginEnded" {
		// Only a login that already ended in the database gets here.
		outcome, failureCode = models.LoginExpired, ""
		err = nil
	}
	if err != nil {
		return FaceLoginResult{}, err
	}
	f.status, f.failureCode = outcome, failureCode
	_ = workflow.UpsertTypedSearchAttributes(ctx, AttrFlowStatus.ValueSet(outcome))
	workflow.SetCurrentDetails(ctx, faceLoginDetails[outcome])
	return FaceLoginResult{Status: outcome, FailureCode: failureCode, PersonID: res.PersonID}, nil
}

var faceLoginDetails = map[string]string{
	models.LoginSucceeded: "登录成功，已签发会话",
	models.LoginFailed:    "人脸核验未通过，登录失败",
	models.LoginExpired:   "超时未完成人脸核验，登录已过期",
}
