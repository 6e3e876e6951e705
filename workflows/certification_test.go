package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/gdyst/accountflows/activities"
	"github.com/gdyst/accountflows/face"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/worker"
	"github.com/gdyst/accountflows/workflows"
)

// certificationEnv runs CertificationRequest with its activities replaced
// by functions that record their calls. registry returns the legal
// representative of each lookup in turn (the last one repeats), and
// verdicts holds the provider's verdict per verification id.
type certificationEnv struct {
	*testsuite.TestWorkflowEnvironment
	t           *testing.T
	createErr   error
	registry    []face.Identity
	registryErr error
	certifyErr  error
	lookups     int
	verdicts    map[string]activities.CheckVerificationResult

	begun                 []activities.BeginVerificationInput
	agreed                int
	failures              []int
	certified             []activities.CertifyAccountInput
	ended                 []activities.EndCertificationRequestInput
	expiredVerifications  []string
	updates               map[string]*updateOutcome
	certificationStatuses []string
}

// updateOutcome is what one update returned to its caller.
type updateOutcome struct {
	rejected error
	err      error
	value    any
	done     bool
}

// failed returns the rejection or the handler's error.
func (u *updateOutcome) failed() error {
	if u.rejected != nil {
		return u.rejected
	}
	return u.err
}

var (
	registryRep  = face.Identity{IDType: "resident_id", IDNumber: "synthetic-rep", Name: "李娜"}
	successorRep = face.Identity{IDType: "resident_id", IDNumber: "synthetic-new-rep", Name: "黄磊"}
)

func newCertificationEnv(t *testing.T) *certificationEnv {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := &certificationEnv{
		TestWorkflowEnvironment: suite.NewTestWorkflowEnvironment(),
		t:                       t,
		registry:                []face.Identity{registryRep},
		verdicts:                map[string]activities.CheckVerificationResult{},
		updates:                 map[string]*updateOutcome{},
	}
	env.SetStartTime(start)
	worker.RegisterWorkflows(env)
	env.RegisterActivity(&activities.Activities{})
	env.OnActivity("CreateCertificationRequest", anyContext, anyInput).Return(func(context.Context, activities.CreateCertificationRequestInput) error {
		return env.createErr
	})
	env.OnActivity("LookupLegalRepresentative", anyContext, anyInput).Return(func(context.Context, string) (face.Identity, error) {
		rep := env.registry[min(env.lookups, len(env.registry)-1)]
		env.lookups++
		return rep, env.registryErr
	})
	env.OnActivity("BeginVerification", anyContext, anyInput).Return(func(_ context.Context, in activities.BeginVerificationInput) (activities.Verification, error) {
		env.begun = append(env.begun, in)
		return activities.Verification{ID: in.VerificationID, ProviderToken: "token-" + in.VerificationID, ExpiresAt: in.ExpiresAt}, nil
	})
	env.OnActivity("AgreeCertificationRequest", anyContext, anyInput).Return(func(context.Context, string) error {
		env.agreed++
		return nil
	})
	env.OnActivity("CheckVerification", anyContext, anyInput).Return(func(_ context.Context, in activities.CheckVerificationInput) (activities.CheckVerificationResult, error) {
		verdict, ok := env.verdicts[in.VerificationID]
		if !ok {
			return activities.CheckVerificationResult{Status: models.VerificationPending}, nil
		}
		return verdict, nil
	})
	env.OnActivity("RecordCertificationFailure", anyContext, anyInput).Return(func(_ context.Context, in activities.RecordCertificationFailureInput) error {
		env.failures = append(env.failures, in.Failures)
		return nil
	})
	env.OnActivity("CertifyAccount", anyContext, anyInput).Return(func(_ context.Context, in activities.CertifyAccountInput) (activities.CertifyAccountResult, error) {
		env.certified = append(env.certified, in)
		if env.certifyErr != nil {
			return activities.CertifyAccountResult{}, env.certifyErr
		}
		return activities.CertifyAccountResult{LegalRepPersonID: "rep-person"}, nil
	})
	env.OnActivity("EndCertificationRequest", anyContext, anyInput).Return(func(_ context.Context, in activities.EndCertificationRequestInput) error {
		env.ended = append(env.ended, in)
		return nil
	})
	env.OnActivity("ExpireVerification", anyContext, anyInput).Return(func(_ context.Context, id string) error {
		env.expiredVerifications = append(env.expiredVerifications, id)
		return nil
	})
	return env
}

func certificationInput() workflows.CertificationRequestInput {
	return workflows.CertificationRequestInput{
		RequestID:          "request-1",
		AccountID:          "account-1",
		USCC:               "91440101MA5ABCDE1X",
		RequesterID:        "requester-1",
		ShareTokenHash:     "hash",
		LegalRepNameMasked: "李*",
		ExpiresAt:          start.Add(168 * time.Hour),
		VerificationTTL:    10 * time.Minute,
	}
}

// update sends an update after delay and records its outcome under id.
func (env *certificationEnv) update(id string, delay time.Duration, name string, args ...any) {
	outcome := &updateOutcome{}
	env.updates[id] = outcome
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(name, id, &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { outcome.rejected, outcome.done = err, true },
			OnComplete: func(v any, err error) {
				outcome.value, outcome.err, outcome.done = v, err, true
			},
		}, args...)
	}, delay)
}

func (env *certificationEnv) agree(id string, delay time.Duration) {
	env.update(id, delay, workflows.UpdateAgreeCertification, workflows.AgreeCertificationRequest{VerificationID: id})
}

func (env *certificationEnv) refuse(id string, delay time.Duration) {
	env.update(id, delay, workflows.UpdateRefuseCertification)
}

func (env *certificationEnv) cancel(id string, delay time.Duration) {
	env.update(id, delay, workflows.UpdateCancelCertification, workflows.CancelCertificationRequest{ActorID: "requester-1"})
}

// report sends the verification-reported signal for id after delay.
func (env *certificationEnv) report(id string, delay time.Duration) {
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SignalVerificationReported, workflows.VerificationReported{VerificationID: id})
	}, delay)
}

// queryStatus records the result of the status query after delay.
func (env *certificationEnv) queryStatus(delay time.Duration) {
	env.RegisterDelayedCallback(func() {
		value, err := env.QueryWorkflow(workflows.QueryStatus)
		if err != nil {
			env.t.Errorf("status query failed: %v", err)
			return
		}
		var status string
		if err := value.Get(&status); err != nil {
			env.t.Errorf("status query result: %v", err)
		}
		env.certificationStatuses = append(env.certificationStatuses, status)
	}, delay)
}

func (env *certificationEnv) run() workflows.CertificationRequestResult {
	env.t.Helper()
	env.ExecuteWorkflow(workflows.CertificationRequestWorkflow, certificationInput())
	if !env.IsWorkflowCompleted() {
		env.t.Fatal("workflow did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		env.t.Fatalf("workflow failed: %v", err)
	}
	var res workflows.CertificationRequestResult
	if err := env.GetWorkflowResult(&res); err != nil {
		env.t.Fatal(err)
	}
	return res
}

// verification returns the verification an agree update returned.
func (env *certificationEnv) verification(id string) activities.Verification {
	env.t.Helper()
	outcome := env.updates[id]
	if outcome == nil || !outcome.done {
		env.t.Fatalf("update %s did not finish", id)
	}
	if err := outcome.failed(); err != nil {
		env.t.Fatalf("update %s failed: %v", id, err)
	}
	v, ok := outcome.value.(activities.Verification)
	if !ok {
		env.t.Fatalf("update %s returned %T, want a verification", id, outcome.value)
	}
	return v
}

func applicationErrorType(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Type()
	}
	return ""
}

var verificationPassed = activities.CheckVerificationResult{Status: models.VerificationPassed}

func TestCertificationRequest_AgreeAndPassCertifies(t *testing.T) {
	env := newCertificationEnv(t)
	env.verdicts["v1"] = verificationPassed
	env.agree("v1", time.Minute)
	env.queryStatus(90 * time.Second)
	env.report("v1", 2*time.Minute)

	res := env.run()
	if res.Status != models.CertificationCertified || res.LegalRepPersonID != "rep-person" {
		t.Fatalf("result = %+v, want certified by rep-person", res)
	}
	if v := env.verification("v1"); v.ProviderToken != "token-v1" {
		t.Errorf("agree returned %+v", v)
	}
	if len(env.begun) != 1 || env.begun[0].Expected != registryRep || env.begun[0].Purpose != models.PurposeCertificationRequest {
		t.Errorf("began %+v, want one verification of the legal representative", env.begun)
	}
	if env.agreed != 1 {
		t.Errorf("consent stored %d times, want 1", env.agreed)
	}
	if len(env.certified) != 1 || env.certified[0].LegalRep != registryRep || env.certified[0].RequestID != "request-1" {
		t.Errorf("CertifyAccount inputs = %+v", env.certified)
	}
	if env.lookups != 2 {
		t.Errorf("registry read %d times, want 2: at agree and before certifying", env.lookups)
	}
	if len(env.ended) != 0 {
		t.Errorf("EndCertificationRequest ran for a certified request: %+v", env.ended)
	}
	if len(env.certificationStatuses) != 1 || env.certificationStatuses[0] != models.CertificationPendingVerification {
		t.Errorf("status after agree = %v, want pending_verification", env.certificationStatuses)
	}
}

func TestCertificationRequest_ExpiresInPendingConsent(t *testing.T) {
	env := newCertificationEnv(t)

	res := env.run()
	if res.Status != models.CertificationExpired {
		t.Fatalf("status = %s, want expired", res.Status)
	}
	if len(env.ended) != 1 || env.ended[0].Status != models.CertificationExpired {
		t.Errorf("ended = %+v, want one expiry", env.ended)
	}
	if env.Now().Before(certificationInput().ExpiresAt) {
		t.Errorf("expired at %s, before the deadline", env.Now())
	}
}

func TestCertificationRequest_ExpiresInPendingVerification(t *testing.T) {
	env := newCertificationEnv(t)
	env.agree("v1", time.Minute)

	res := env.run()
	if res.Status != models.CertificationExpired {
		t.Fatalf("status = %s, want expired", res.Status)
	}
	if len(env.expiredVerifications) != 1 || env.expiredVerifications[0] != "v1" {
		t.Errorf("expired verifications = %v, want [v1]", env.expiredVerifications)
	}
	if len(env.certified) != 0 {
		t.Error("an expired request certified the account")
	}
}

func TestCertificationRequest_ReportAfterDeadlineExpires(t *testing.T) {
	env := newCertificationEnv(t)
	env.verdicts["v1"] = verificationPassed
	env.agree("v1", time.Minute)
	env.report("v1", 169*time.Hour)

	if res := env.run(); res.Status != models.CertificationExpired {
		t.Fatalf("status = %s, want expired", res.Status)
	}
	if len(env.certified) != 0 {
		t.Error("a report after the deadline certified the account")
	}
}

func TestCertificationRequest_RefuseEndsIt(t *testing.T) {
	env := newCertificationEnv(t)
	env.refuse("refuse", time.Minute)

	res := env.run()
	if res.Status != models.CertificationRefused {
		t.Fatalf("status = %s, want refused", res.Status)
	}
	if err := env.updates["refuse"].failed(); err != nil {
		t.Fatalf("refuse failed: %v", err)
	}
	if len(env.ended) != 1 || env.ended[0].Status != models.CertificationRefused || env.ended[0].ActorID != "" {
		t.Errorf("ended = %+v, want one refusal without an actor", env.ended)
	}
	if env.lookups != 0 || len(env.begun) != 0 {
		t.Error("a refusal read the registry or began a verification")
	}
}

func TestCertificationRequest_RefuseAfterAgree(t *testing.T) {
	env := newCertificationEnv(t)
	env.agree("v1", time.Minute)
	env.refuse("refuse", 2*time.Minute)

	if res := env.run(); res.Status != models.CertificationRefused {
		t.Fatalf("status = %s, want refused", res.Status)
	}
	if len(env.expiredVerifications) != 1 {
		t.Errorf("expired verifications = %v, want the open one", env.expiredVerifications)
	}
}

func TestCertificationRequest_CancelInEachState(t *testing.T) {
	cases := []struct {
		name       string
		agreeFirst bool
	}{
		{"pending_consent", false},
		{"pending_verification", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newCertificationEnv(t)
			if tc.agreeFirst {
				env.agree("v1", time.Minute)
			}
			env.cancel("cancel", 2*time.Minute)

			res := env.run()
			if res.Status != models.CertificationCancelled {
				t.Fatalf("status = %s, want cancelled", res.Status)
			}
			outcome := env.updates["cancel"]
			if err := outcome.failed(); err != nil {
				t.Fatalf("cancel failed: %v", err)
			}
			if got, _ := outcome.value.(workflows.CertificationDecisionResult); got.Status != models.CertificationCancelled {
				t.Errorf("cancel returned %+v", outcome.value)
			}
			if len(env.ended) != 1 || env.ended[0].ActorID != "requester-1" {
				t.Errorf("ended = %+v, want one cancellation by the requester", env.ended)
			}
			if tc.agreeFirst && len(env.expiredVerifications) != 1 {
				t.Errorf("expired verifications = %v, want the open one", env.expiredVerifications)
			}
		})
	}
}

func TestCertificationRequest_SecondDecisionRejected(t *testing.T) {
	env := newCertificationEnv(t)
	env.refuse("refuse", time.Minute)
	env.cancel("cancel", time.Minute)
	env.agree("v1", time.Minute)

	if res := env.run(); res.Status != models.CertificationRefused {
		t.Fatalf("status = %s, want refused", res.Status)
	}
	if err := env.updates["refuse"].failed(); err != nil {
		t.Fatalf("refuse failed: %v", err)
	}
	for _, id := range []string{"cancel", "v1"} {
		if got := applicationErrorType(env.updates[id].failed()); got != workflows.ErrTypeCertificationRequestNotOpen {
			t.Errorf("%s after the refusal: error type %q, want %s", id, got, workflows.ErrTypeCertificationRequestNotOpen)
		}
	}
	if len(env.ended) != 1 {
		t.Errorf("EndCertificationRequest ran %d times, want 1", len(env.ended))
	}
}

func TestCertificationRequest_AgreeTwiceGivesFreshVerification(t *testing.T) {
	env := newCertificationEnv(t)
	env.verdicts["v2"] = verificationPassed
	env.agree("v1", time.Minute)
	env.agree("v2", 2*time.Minute)
	env.report("v2", 3*time.Minute)

	if res := env.run(); res.Status != models.CertificationCertified {
		t.Fatalf("status = %s, want certified", res.Status)
	}
	first, second := env.verification("v1"), env.verification("v2")
	if first.ID == second.ID || first.ProviderToken == second.ProviderToken {
		t.Errorf("second agree returned the same verification: %+v", second)
	}
	if env.agreed != 1 {
		t.Errorf("consent stored %d times, want 1", env.agreed)
	}
	if len(env.expiredVerifications) != 1 || env.expiredVerifications[0] != "v1" {
		t.Errorf("expired verifications = %v, want the unused v1", env.expiredVerifications)
	}
}

func TestCertificationRequest_AgentFaceThenRepFace(t *testing.T) {
	env := newCertificationEnv(t)
	env.verdicts["v1"] = activities.CheckVerificationResult{Status: models.VerificationFailed, FailureCode: face.FailureIdentityMismatch}
	env.verdicts["v2"] = verificationPassed
	env.agree("v1", time.Minute)
	env.report("v1", 2*time.Minute)
	env.queryStatus(3 * time.Minute)
	env.agree("v2", 4*time.Minute)
	env.report("v2", 5*time.Minute)

	if res := env.run(); res.Status != models.CertificationCertified {
		t.Fatalf("status = %s, want certified", res.Status)
	}
	if len(env.failures) != 1 || env.failures[0] != 1 {
		t.Errorf("failures recorded = %v, want [1]", env.failures)
	}
	if len(env.certificationStatuses) != 1 || env.certificationStatuses[0] != models.CertificationPendingVerification {
		t.Errorf("status after the mismatch = %v, want pending_verification", env.certificationStatuses)
	}
}

func TestCertificationRequest_ThreeFailuresEndIt(t *testing.T) {
	env := newCertificationEnv(t)
	for i := 1; i <= 3; i++ {
		id := fmt.Sprintf("v%d", i)
		env.verdicts[id] = activities.CheckVerificationResult{Status: models.VerificationFailed, FailureCode: face.FailureLiveness}
		env.agree(id, time.Duration(2*i)*time.Minute)
		env.report(id, time.Duration(2*i+1)*time.Minute)
	}
	env.agree("v4", 10*time.Minute)

	if res := env.run(); res.Status != models.CertificationFailed {
		t.Fatalf("status = %s, want failed", res.Status)
	}
	if fmt.Sprint(env.failures) != "[1 2 3]" {
		t.Errorf("failures recorded = %v, want [1 2 3]", env.failures)
	}
	if len(env.ended) != 1 || env.ended[0].Status != models.CertificationFailed {
		t.Errorf("ended = %+v, want one failure", env.ended)
	}
	if len(env.certified) != 0 {
		t.Error("a failed request certified the account")
	}
}

func TestCertificationRequest_RegistryChangeBlocksCertification(t *testing.T) {
	env := newCertificationEnv(t)
	env.registry = []face.Identity{registryRep, successorRep, successorRep}
	env.verdicts["v1"] = verificationPassed
	env.verdicts["v2"] = verificationPassed
	env.agree("v1", time.Minute)
	env.report("v1", 2*time.Minute)
	env.agree("v2", 3*time.Minute)
	env.report("v2", 4*time.Minute)

	if res := env.run(); res.Status != models.CertificationCertified {
		t.Fatalf("status = %s, want certified by the new legal representative", res.Status)
	}
	if len(env.failures) != 1 || env.failures[0] != 1 {
		t.Errorf("failures recorded = %v, want the former legal representative's pass counted as [1]", env.failures)
	}
	if len(env.certified) != 1 || env.certified[0].LegalRep != successorRep {
		t.Errorf("certified for %+v, want only the new legal representative", env.certified)
	}
	if len(env.begun) != 2 || env.begun[1].Expected != successorRep {
		t.Errorf("second verification expects %+v, want the new legal representative", env.begun)
	}
}

func TestCertificationRequest_LimitsVerifications(t *testing.T) {
	env := newCertificationEnv(t)
	for i := 1; i <= workflows.MaxCertificationVerifications+1; i++ {
		env.agree(fmt.Sprintf("v%d", i), time.Duration(i)*time.Minute)
	}
	env.cancel("cancel", time.Hour)

	env.run()
	if len(env.begun) != workflows.MaxCertificationVerifications {
		t.Errorf("began %d verifications, want %d", len(env.begun), workflows.MaxCertificationVerifications)
	}
	last := fmt.Sprintf("v%d", workflows.MaxCertificationVerifications+1)
	if got := applicationErrorType(env.updates[last].failed()); got != workflows.ErrTypeTooManyVerifications {
		t.Errorf("agree past the limit: error type %q, want %s", got, workflows.ErrTypeTooManyVerifications)
	}
}

func TestCertificationRequest_CreateFailureFailsBegin(t *testing.T) {
	env := newCertificationEnv(t)
	env.createErr = temporal.NewNonRetryableApplicationError("open request", activities.ErrTypeCertificationRequestOpen, nil)
	env.update("begin", 0, workflows.UpdateBeginCertificationRequest)

	res := env.run()
	if res.Status != workflows.CertificationNotCreated {
		t.Errorf("status = %q, want %s", res.Status, workflows.CertificationNotCreated)
	}
	if got := applicationErrorType(env.updates["begin"].failed()); got != activities.ErrTypeCertificationRequestOpen {
		t.Errorf("begin update: error type %q, want %s", got, activities.ErrTypeCertificationRequestOpen)
	}
}

func TestCertificationRequest_BeginReturnsOnceStored(t *testing.T) {
	env := newCertificationEnv(t)
	env.update("begin", 0, workflows.UpdateBeginCertificationRequest)
	env.cancel("cancel", time.Minute)

	env.run()
	if outcome := env.updates["begin"]; !outcome.done || outcome.failed() != nil {
		t.Errorf("begin update = %+v, want success", outcome)
	}
}

func TestCertificationRequest_UnknownEnterpriseFailsAgree(t *testing.T) {
	env := newCertificationEnv(t)
	env.registryErr = temporal.NewNonRetryableApplicationError("not found", activities.ErrTypeEnterpriseNotFound, nil)
	env.agree("v1", time.Minute)
	env.queryStatus(2 * time.Minute)

	if res := env.run(); res.Status != models.CertificationExpired {
		t.Fatalf("status = %s, want expired", res.Status)
	}
	if got := applicationErrorType(env.updates["v1"].failed()); got != activities.ErrTypeEnterpriseNotFound {
		t.Errorf("agree: error type %q, want %s", got, activities.ErrTypeEnterpriseNotFound)
	}
	if len(env.begun) != 0 || env.agreed != 0 {
		t.Errorf("began %d verifications and stored consent %d times, want none", len(env.begun), env.agreed)
	}
	if len(env.certificationStatuses) != 1 || env.certificationStatuses[0] != models.CertificationPendingConsent {
		t.Errorf("status after the failed agree = %v, want pending_consent", env.certificationStatuses)
	}
}

func TestCertificationRequest_SweptBeforeCertifyExpires(t *testing.T) {
	env := newCertificationEnv(t)
	env.certifyErr = temporal.NewNonRetryableApplicationError("ended", activities.ErrTypeCertificationRequestEnded, nil)
	env.verdicts["v1"] = verificationPassed
	env.agree("v1", time.Minute)
	env.report("v1", 2*time.Minute)

	res := env.run()
	if res.Status != models.CertificationExpired || res.LegalRepPersonID != "" {
		t.Fatalf("result = %+v, want expired without a legal representative", res)
	}
	if len(env.ended) != 0 {
		t.Errorf("EndCertificationRequest ran for a request the sweep ended: %+v", env.ended)
	}
}
