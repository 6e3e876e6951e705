package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/gdyst/accountflows/activities"
	"github.com/gdyst/accountflows/face"
	"github.com/gdyst/accountflows/models"
)

// verificationSet is the face-verification step shared by the flows that
// wait on someone's face: agent invitations and certification requests.
// A flow may start several verifications, because a failed one can be
// retried. Each report names its verification, and only verifications this
// flow started are checked.
type verificationSet struct {
	purpose     string
	callbackURL string
	ttl         time.Duration
	open        map[string]openVerification
	// started lists the ids in the order they began, because ranging over
	// open would be nondeterministic on replay.
	started  []string
	failures int
}

type openVerification struct {
	providerToken string
	expected      face.Identity
}

func newVerificationSet(purpose, callbackURL string, ttl time.Duration) *verificationSet {
	return &verificationSet{purpose: purpose, callbackURL: callbackURL, ttl: ttl, open: map[string]openVerification{}}
}

// begin registers verification id at the provider, expecting expected. The
// id comes from the API, so a retried update begins the same verification.
func (v *verificationSet) begin(ctx workflow.Context, id string, expected face.Identity) (activities.Verification, error) {
	ctx = workflow.WithActivityOptions(ctx, shortActivityOptions)
	var out activities.Verification
	err := workflow.ExecuteActivity(ctx, acts.BeginVerification, activities.BeginVerificationInput{
		VerificationID: id,
		Purpose:        v.purpose,
		WorkflowID:     workflow.GetInfo(ctx).WorkflowExecution.ID,
		Expected:       expected,
		ExpiresAt:      workflow.Now(ctx).Add(v.ttl).Truncate(time.Second),
		CallbackURL:    v.callbackURL,
	}).Get(ctx, &out)
	if err != nil {
		return activities.Verification{}, err
	}
	if _, again := v.open[id]; !again {
		v.started = append(v.started, id)
	}
	v.open[id] = openVerification{providerToken: out.ProviderToken, expected: expected}
	return out, nil
}

// check pulls the result of a reported verification. known is false for a
// verification this flow did not start or already settled.
func (v *verificationSet) check(ctx workflow.Context, id string) (verdict activities.CheckVerificationResult, known bool, err error) {
	open, ok := v.open[id]
	if !ok {
		return activities.CheckVerificationResult{}, false, nil
	}
	ctx = workflow.WithActivityOptions(ctx, checkActivityOptions)
	err = workflow.ExecuteActivity(ctx, acts.CheckVerification, activities.CheckVerificationInput{
		VerificationID: id,
		ProviderToken:  open.providerToken,
		Expected:       open.expected,
	}).Get(ctx, &verdict)
	if err != nil {
		return verdict, true, err
	}
	if verdict.Status != models.VerificationPending {
		delete(v.open, id)
		if verdict.Status != models.VerificationPassed {
			v.failures++
		}
	}
	return verdict, true, nil
}

// expireAll marks every verification still open as expired, when the flow
// ends without waiting for them any longer.
func (v *verificationSet) expireAll(ctx workflow.Context) {
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	for _, id := range v.started {
		if _, open := v.open[id]; !open {
			continue
		}
		_ = workflow.ExecuteActivity(ctx, acts.ExpireVerification, id).Get(ctx, nil)
		delete(v.open, id)
	}
}
