package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/gdyst/accountflows/face"
	"github.com/gdyst/accountflows/models"
	"github.com/gdyst/accountflows/secure"
)

// Verification is the face verification the app launches the mini program
// with; the API returns it as the verification object.
type Verification struct {
	ID            string    `json:"id"`
	ProviderToken string    `json:"provider_token"`
	LaunchURL     string    `json:"launch_url"`
	ExpiresAt     time.Time `json:"expires_at"`
}

// BeginFaceLoginInput starts a face login.
type BeginFaceLoginInput struct {
	LoginID          string
	VerificationID   string
	WorkflowID       string
	Expected         face.Identity
	ClientSecretHash string
	IDHash           string
	ExpiresAt        time.Time
	CallbackURL      string
}

// BeginFaceLogin registers the verification at the provider and inserts the
// pending login and verification rows.
func (a *Activities) BeginFaceLogin(ctx context.Context, in BeginFaceLoginInput) (Verification, error) {
	session, err := a.createSession(ctx, in.VerificationID, in.Expected, in.ExpiresAt, in.CallbackURL)
	if err != nil {
		return Verification{}, err
	}
	err = a.store.CreateFaceLogin(ctx, models.NewFaceLogin{
		LoginID:           in.LoginID,
		VerificationID:    in.VerificationID,
		WorkflowID:        in.WorkflowID,
		Provider:          a.provider.Name(),
		ProviderTokenHash: secure.HashToken(session.ProviderToken),
		ClientSecretHash:  in.ClientSecretHash,
		IDHash:            in.IDHash,
		ExpiresAt:         in.ExpiresAt,
	})
	if err != nil {
		return Verification{}, fmt.Errorf("unable to store face login: %w", err)
	}
	return verificationOf(in.VerificationID, session), nil
}

// createSession registers verification id at the provider.
func (a *Activities) createSession(ctx context.Context, id string, expected face.Identity, expiresAt time.Time, callbackURL string) (face.Session, error) {
	session, err := a.provider.CreateSession(ctx, face.Request{
		VerificationID: id,
		Expected:       expected,
		ExpiresAt:      expiresAt,
		CallbackURL:    callbackURL,
	})
	if err != nil {
		return face.Session{}, fmt.Errorf("unable to create provider session: %w", err)
	}
	return session, nil
}

func verificationOf(id string, session face.Session) Verification {
	return Verification{ID: id, ProviderToken: session.ProviderToken, LaunchURL: session.LaunchURL, ExpiresAt: session.ExpiresAt}
}

// CheckVerificationInput requests the provider's verdict on a verification.
type CheckVerificationInput struct {
	VerificationID string
	ProviderToken  string
	Expected       face.Identity
}

// CheckVerificationResult is the verdict after the identity check. Status is
// a models.Verification* status; pending means the user has not finished.
type CheckVerificationResult struct {
	Status      string
	FailureCode string
}

// ErrTypeUnknownToken marks a token the provider no longer has, which retrying cannot fix.
const ErrTypeUnknownToken = "UnknownProviderToken"

// CheckVerification pulls the result from the provider, checks that the
// verified identity is the expected one and records the outcome.
func (a *Activities) CheckVerification(ctx context.Context, in CheckVerificationInput) (CheckVerificationResult, error) {
	result, err := a.provider.Result(ctx, in.ProviderToken)
	if errors.Is(err, face.ErrUnknownToken) {
		return CheckVerificationResult{}, temporal.NewNonRetryableApplicationError("provider has no verification for the token", ErrTypeUnknownToken, err)
	}
	if err != nil {
		return CheckVerificationResult{}, fmt.Errorf("unable to fetch verification result: %w", err)
	}
	verdict := judge(result, in.Expected)
	if verdict.Status == models.VerificationPending {
		return verdict, nil
	}
	record := models.VerificationResult{
		Status:         verdict.Status,
		FailureCode:    verdict.FailureCode,
		Similarity:     result.Similarity,
		LivenessPassed: result.LivenessPassed,
	}
	if err := a.store.RecordVerificationResult(ctx, in.VerificationID, record); err != nil {
		return CheckVerificationResult{}, fmt.Errorf("unable to record verification result: %w", err)
	}
	activity.GetLogger(ctx).Info("face verification finished",
		"verification_id", in.VerificationID, "status", verdict.Status, "failure_code", verdict.FailureCode)
	return verdict, nil
}

// judge maps a provider result to a verification status. A pass for anyone
// other than the expected person is a failure with IDENTITY_MISMATCH.
func judge(result face.Result, expected face.Identity) CheckVerificationResult {
	switch result.State {
	case face.StatePassed:
		if !sameIdentity(result.Verified, expected) {
			return CheckVerificationResult{Status: models.VerificationFailed, FailureCode: face.FailureIdentityMismatch}
		}
		return CheckVerificationResult{Status: models.VerificationPassed}
	case face.StateFailed:
		code := result.FailureCode
		if code == "" {
			code = face.FailureSimilarity
		}
		return CheckVerificationResult{Status: models.VerificationFailed, FailureCode: code}
	case face.StateCancelled:
		return CheckVerificationResult{Status: models.VerificationCancelled, FailureCode: face.FailureUserCancelled}
	case face.StateExpired:
		return CheckVerificationResult{Status: models.VerificationExpired, FailureCode: face.FailureExpired}
	default:
		return CheckVerificationResult{Status: models.VerificationPending}
	}
}

// sameIdentity compares the canonical ID number and the name. Providers that
// report the document type must report the expected one.
func sameIdentity(verified, expected face.Identity) bool {
	if verified.IDType != "" && verified.IDType != expected.IDType {
		return false
	}
	return secure.Equal(verified.IDNumber, expected.IDNumber) && verified.Name == expected.Name
}

// kindFaceLogin is the flow kind of face logins, the value of
// workflows.KindFaceLogin, which this package cannot import.
const kindFaceLogin = "face-login"

// FinishFaceLoginInput ends a face login. Outcome is a models.Login* status.
type FinishFaceLoginInput struct {
	LoginID          string
	Outcome          string
	FailureCode      string
	Person           face.Identity
	SessionTokenHash string
	SessionExpiresAt time.Time
}

// FinishFaceLoginResult names the person a successful login created or found.
type FinishFaceLoginResult struct {
	PersonID string
}

// FinishFaceLogin stores the end of a face login: on success the person and
// the session, otherwise the failure code.
func (a *Activities) FinishFaceLogin(ctx context.Context, in FinishFaceLoginInput) (FinishFaceLoginResult, error) {
	if in.Outcome != models.LoginSucceeded {
		if err := a.store.EndFaceLogin(ctx, in.LoginID, in.Outcome, in.FailureCode); err != nil {
			return FinishFaceLoginResult{}, fmt.Errorf("unable to end face login: %w", err)
		}
		a.flowEnded(kindFaceLogin, in.Outcome)
		return FinishFaceLoginResult{}, nil
	}
	person := models.Identity{IDType: in.Person.IDType, IDNumber: in.Person.IDNumber, Name: in.Person.Name}
	personID, err := a.store.SucceedFaceLogin(ctx, in.LoginID, person, in.SessionTokenHash, in.SessionExpiresAt)
	if errors.Is(err, models.ErrConflict) {
		// The login ended (expired) before the verification passed. The
		// expiry remains and no session is issued.
		return FinishFaceLoginResult{}, temporal.NewNonRetryableApplicationError("face login already ended", "LoginEnded", err)
	}
	if err != nil {
		return FinishFaceLoginResult{}, fmt.Errorf("unable to complete face login: %w", err)
	}
	a.flowEnded(kindFaceLogin, models.LoginSucceeded)
	return FinishFaceLoginResult{PersonID: personID}, nil
}
